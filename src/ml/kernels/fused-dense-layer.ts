import type { Tensor } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { DENSE_FORWARD, denseActivations, fusedDense, type DenseActivation } from './fused-dense.js';

type DenseArgs = Parameters<Tf['layers']['dense']>[0];
type Layer = ReturnType<Tf['layers']['dense']>;

interface DenseInternals {
  kernel: { read(): Tensor };
  bias: { read(): Tensor } | null;
  activation: { getClassName(): string };
  invokeCallHook(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): void;
}

const classes = new WeakMap<Tf, new (args: DenseArgs) => Layer>();

/** Whether `layer` is mlpipe's fused Dense (of this TensorFlow.js instance), not the stock class. */
export function isFusedDenseLayer(tf: Tf, layer: unknown): boolean {
  const cls = classes.get(tf);
  return cls !== undefined && layer instanceof cls;
}

/**
 * TensorFlow.js's Dense layer with `call` running `fusedDense` when it can (mlpipe's kernel on the
 * active backend, a [rows, features] input, a linear, relu or sigmoid activation); otherwise the
 * stock implementation. It keeps the class name `Dense` and is registered in place of the stock
 * class, so saved models are plain TensorFlow.js models and load anywhere.
 */
export function fusedDenseLayerClass(tf: Tf): new (args: DenseArgs) => Layer {
  let cls = classes.get(tf);
  if (cls) return cls;
  const Stock = Object.getPrototypeOf(tf.layers.dense({ units: 1 })).constructor as new (args: DenseArgs) => Layer & {
    call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
  };
  class FusedDense extends Stock {
    static className = 'Dense';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const self = this as unknown as DenseInternals;
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const activation = self.activation.getClassName() as DenseActivation;
      const fusable =
        (!Array.isArray(inputs) || inputs.length === 1) &&
        x.rank === 2 &&
        x.dtype === 'float32' &&
        denseActivations.includes(activation) &&
        tf.getKernel(DENSE_FORWARD, tf.getBackend()) !== undefined;
      if (!fusable) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        self.invokeCallHook(inputs, kwargs);
        return fusedDense(tf, x, self.kernel.read(), self.bias ? self.bias.read() : null, activation);
      });
    }
  }
  tf.serialization.registerClass(FusedDense as never);
  cls = FusedDense as unknown as new (args: DenseArgs) => Layer;
  classes.set(tf, cls);
  return cls;
}
