import type { KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { DENSE_GRAD, type DenseActivation, type DenseAttrs } from './fused-dense.js';

/**
 * A channels-last 2-D convolution with bias and activation, `y = act(conv(x, W) + b)`, as one
 * kernel forward (the backend's FusedConv2D) with its own gradient: one pass for ∂loss/∂z and the
 * bias gradient (DENSE_GRAD), then Conv2DBackpropFilter and, only where the tape needs it,
 * Conv2DBackpropInput. tfjs-core runs a convolution under a gradient tape as conv, add and
 * activation kernels, and its gradient as step, cast, multiply and sum more.
 */
export const CONV_FORWARD = 'MlpipeConv2D';

export interface ConvAttrs extends DenseAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
}

export function fusedConvKernels(tf: Tf): Record<string, KernelConfig[]> {
  const out: Record<string, KernelConfig[]> = {};
  for (const backend of ['wasm', 'cpu']) {
    // Its gradient's Conv2DBackpropFilter on wasm is mlpipe's (registered in the same pass).
    if (!tf.getKernel('FusedConv2D', backend)) continue;
    const kernelFunc = ({ inputs, attrs, backend: b }: { inputs: Record<string, TensorInfo>; attrs: ConvAttrs; backend: unknown }): TensorInfo =>
      tf.getKernel('FusedConv2D', backend)!.kernelFunc({
        inputs: inputs.bias ? { x: inputs.x!, filter: inputs.filter!, bias: inputs.bias } : { x: inputs.x!, filter: inputs.filter! },
        attrs: { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation: attrs.activation },
        backend: b,
      } as never) as TensorInfo;
    out[backend] = [{ kernelName: CONV_FORWARD, backendName: backend, kernelFunc: kernelFunc as unknown as KernelFunc }];
  }
  return out;
}

const registered = new WeakSet<Tf>();

/** Registers the gradient of CONV_FORWARD (once per TensorFlow.js instance). */
export function registerFusedConvGradient(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  tf.registerGradient({
    kernelName: CONV_FORWARD,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
      const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
      const { hasBias, strides, pad } = attrs as unknown as ConvAttrs;
      const [dz, db] = tf.engine().runKernel(DENSE_GRAD, { dy: dy as Tensor, y }, attrs as NamedAttrMap) as Tensor[];
      const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz!, filter }, { ...common, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz! }, { ...common, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
        ...(hasBias ? { bias: () => db! } : {}),
      };
    },
  });
}

/** act(conv2d(x, filter) + bias) of an NHWC input, dilation 1, as one differentiable kernel (needs CONV_FORWARD on the active backend). */
export function fusedConv2d(tf: Tf, x: Tensor, filter: Tensor, bias: Tensor | null, strides: [number, number], pad: 'valid' | 'same', activation: DenseActivation): Tensor {
  registerFusedConvGradient(tf);
  const attrs: ConvAttrs = { activation, hasBias: bias !== null, strides, pad };
  return tf.engine().runKernel(CONV_FORWARD, bias ? { x, filter, bias } : { x, filter }, attrs as unknown as NamedAttrMap) as Tensor;
}
