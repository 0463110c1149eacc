import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface GatherArgs {
  inputs: { x: TensorInfo; indices: TensorInfo };
  attrs: { axis: number; batchDims: number };
  backend: WasmBackendLike;
}

/**
 * GatherV2 along axis 0 (the Embedding lookup) for wasm as one row copy per index through heap
 * views; the stock kernel's generic strided loop is several times slower. Other axes use the stock kernel.
 */
export function gatherKernels(tf: Tf): Record<string, KernelConfig[]> {
  const stock = tf.getKernel('GatherV2', 'wasm');
  if (!stock) return {};
  const kernelFunc = (args: GatherArgs): TensorInfo => {
    const { x, indices } = args.inputs;
    const axis = args.attrs.axis < 0 ? args.attrs.axis + x.shape.length : args.attrs.axis;
    if (axis !== 0 || args.attrs.batchDims !== 0 || x.dtype === 'string' || indices.dtype !== 'int32') return stock.kernelFunc(args as never) as TensorInfo;
    const rows = x.shape[0]!;
    const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = args.backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const ids = args.backend.typedArrayFromHeap(indices);
    const src = args.backend.typedArrayFromHeap(x);
    const dst = args.backend.typedArrayFromHeap(out);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < rows)) throw new RangeError(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
      // A plain loop for short rows (an embedding of 16): subarray + set allocates a view per index.
      if (row <= 64) for (let j = 0, s = id * row, d = i * row; j < row; j++) dst[d + j] = src[s + j]!;
      else dst.set(src.subarray(id * row, (id + 1) * row), i * row);
    }
    return out;
  };
  return { wasm: [{ kernelName: 'GatherV2', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
