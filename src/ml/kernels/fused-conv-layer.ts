import type { Tensor } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { CONV_FORWARD, fusedConv2d } from './fused-conv.js';
import { denseActivations, type DenseActivation } from './fused-dense.js';

type Conv1dArgs = Parameters<Tf['layers']['conv1d']>[0];
type Conv2dArgs = Parameters<Tf['layers']['conv2d']>[0];
type Layer = ReturnType<Tf['layers']['conv1d']>;

interface ConvInternals {
  kernel: { read(): Tensor };
  bias: { read(): Tensor } | null;
  activation: { getClassName(): string };
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
}

export interface FusedConvClasses {
  Conv1D: new (args: Conv1dArgs) => Layer;
  Conv2D: new (args: Conv2dArgs) => Layer;
}

const classes = new WeakMap<Tf, FusedConvClasses>();

/** Whether `self` on `x` can run as mlpipe's fused convolution; its activation when it can. */
function fusableActivation(tf: Tf, self: ConvInternals, inputs: Tensor | Tensor[]): DenseActivation | undefined {
  const x = Array.isArray(inputs) ? inputs[0]! : inputs;
  const activation = self.activation.getClassName() as DenseActivation;
  const dilations = Array.isArray(self.dilationRate) ? self.dilationRate : [self.dilationRate];
  const ok =
    (!Array.isArray(inputs) || inputs.length === 1) &&
    x.dtype === 'float32' &&
    x.rank === self.rank + 2 &&
    self.dataFormat === 'channelsLast' &&
    (self.padding === 'valid' || self.padding === 'same') &&
    dilations.every((d) => d === 1) &&
    denseActivations.includes(activation) &&
    tf.getKernel(CONV_FORWARD, tf.getBackend()) !== undefined;
  return ok ? activation : undefined;
}

/**
 * TensorFlow.js's Conv1D and Conv2D layers with `call` running `fusedConv2d` when they can
 * (channels last, dilation 1, valid or same padding, a linear, relu or sigmoid activation, mlpipe's
 * kernel on the active backend; conv1d as a conv2d of height 1, as TensorFlow.js computes it);
 * otherwise the stock implementation. Class names and configs are the stock ones, registered in
 * their place, so saved models are plain TensorFlow.js models.
 */
export function fusedConvLayerClasses(tf: Tf): FusedConvClasses {
  let cls = classes.get(tf);
  if (cls) return cls;
  type Stock = new (args: Conv1dArgs | Conv2dArgs) => Layer & { call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] };
  const Stock1 = Object.getPrototypeOf(tf.layers.conv1d({ filters: 1, kernelSize: 1 })).constructor as Stock;
  const Stock2 = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as Stock;
  class FusedConv1D extends Stock1 {
    static className = 'Conv1D';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const self = this as unknown as ConvInternals;
      const activation = fusableActivation(tf, self, inputs);
      if (activation === undefined) return super.call(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.tidy(() => {
        const [b, steps, channels] = x.shape as [number, number, number];
        const w = self.kernel.read();
        const [k, inC, outC] = w.shape as [number, number, number];
        const y = fusedConv2d(tf, tf.reshape(x, [b, 1, steps, channels]), tf.reshape(w, [1, k, inC, outC]), self.bias ? self.bias.read() : null, [1, self.strides[0]!], self.padding as 'valid', activation);
        return tf.reshape(y, [b, y.shape[2]!, outC]);
      });
    }
  }
  class FusedConv2D extends Stock2 {
    static className = 'Conv2D';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const self = this as unknown as ConvInternals;
      const activation = fusableActivation(tf, self, inputs);
      if (activation === undefined) return super.call(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.tidy(() => fusedConv2d(tf, x, self.kernel.read(), self.bias ? self.bias.read() : null, [self.strides[0]!, self.strides[1]!], self.padding as 'valid', activation));
    }
  }
  tf.serialization.registerClass(FusedConv1D as never);
  tf.serialization.registerClass(FusedConv2D as never);
  cls = { Conv1D: FusedConv1D as unknown as FusedConvClasses['Conv1D'], Conv2D: FusedConv2D as unknown as FusedConvClasses['Conv2D'] };
  classes.set(tf, cls);
  return cls;
}
