import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

interface WasmBackendLike {
  incRef(dataId: object): void;
}

/**
 * Identity for wasm that shares the input's memory (reference-counted, as the cpu backend does)
 * instead of copying it: the engine clones every tensor it saves for the backward pass, about twenty
 * per batch for an LSTM model. Kernels never write their inputs, and mlpipe's in-place optimizer
 * writes only memory nothing else refers to.
 */
export function identityKernels(tf: Tf): Record<string, KernelConfig[]> {
  const stock = tf.getKernel('Identity', 'wasm');
  if (!stock) return {};
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: WasmBackendLike }): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return stock.kernelFunc(args as never) as TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { wasm: [{ kernelName: 'Identity', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
