import type { Tensor } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { fusedLstm, LSTM_FORWARD } from './fused-lstm.js';

type LstmArgs = Parameters<Tf['layers']['lstm']>[0];
type Layer = ReturnType<Tf['layers']['lstm']>;

interface LstmInternals {
  cell: {
    kernel: { read(): Tensor };
    recurrentKernel: { read(): Tensor };
    bias: { read(): Tensor } | null;
    activation: { getClassName(): string };
    recurrentActivation: { getClassName(): string };
    dropout: number;
    recurrentDropout: number;
  };
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
}

const classes = new WeakMap<Tf, new (args: LstmArgs) => Layer>();

/**
 * TensorFlow.js's LSTM layer with `call` running `fusedLstm` when it can (a kernel for the active
 * backend, tanh/sigmoid activations, a bias, no mask, no initial state, no dropout while training);
 * otherwise the stock implementation. It keeps the class name `LSTM` and is registered in place of
 * the stock class, so saved models are plain TensorFlow.js LSTMs and load anywhere, and
 * `bidirectional` wrappers (which rebuild their layer from its config) get the fused one too.
 */
export function fusedLstmLayerClass(tf: Tf): new (args: LstmArgs) => Layer {
  let cls = classes.get(tf);
  if (cls) return cls;
  const Stock = Object.getPrototypeOf(tf.layers.lstm({ units: 1 })).constructor as new (args: LstmArgs) => Layer & {
    call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
  };
  class FusedLSTM extends Stock {
    static className = 'LSTM';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const self = this as unknown as LstmInternals;
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const cell = self.cell;
      const fusable =
        (!Array.isArray(inputs) || inputs.length === 1) &&
        kwargs?.mask == null &&
        kwargs?.initialState == null &&
        !self.returnState &&
        !self.stateful &&
        cell.bias !== null &&
        cell.activation.getClassName() === 'tanh' &&
        cell.recurrentActivation.getClassName() === 'sigmoid' &&
        (!kwargs?.training || (cell.dropout === 0 && cell.recurrentDropout === 0)) &&
        x.rank === 3 &&
        tf.getKernel(LSTM_FORWARD, tf.getBackend()) !== undefined;
      if (!fusable) return super.call(inputs, kwargs);
      return tf.tidy(() =>
        fusedLstm(tf, self.goBackwards ? tf.reverse(x, 1) : x, cell.kernel.read(), cell.recurrentKernel.read(), cell.bias!.read(), self.returnSequences),
      );
    }
  }
  tf.serialization.registerClass(FusedLSTM as never);
  cls = FusedLSTM as unknown as new (args: LstmArgs) => Layer;
  classes.set(tf, cls);
  return cls;
}
