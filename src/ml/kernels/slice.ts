import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

type NumericArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): NumericArray;
}

/** Copies the box `begin`/`size` of `x` (row-major, shape `shape`) into `out`, one contiguous run per innermost row. */
export function copyBox(x: NumericArray, shape: number[], begin: number[], size: number[], out: NumericArray): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  const inner = size[rank - 1]!;
  const outer = size.slice(0, -1).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let o = 0; o < outer; o++) {
    let offset = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + idx[d]!) * strides[d]!;
    out.set(x.subarray(offset, offset + inner), o * inner);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * Slice and Unpack for the wasm backend that read the input through a view of the wasm heap; the
 * stock kernels first copy the whole input out of the heap, so slicing a batch from a large tensor,
 * or unstacking a sequence into time steps, cost time proportional to the whole tensor per slice.
 */
export function sliceKernels(tf: Tf): Record<string, KernelConfig[]> {
  const stockSlice = tf.getKernel('Slice', 'wasm');
  const stockUnpack = tf.getKernel('Unpack', 'wasm');
  if (!stockSlice || !stockUnpack) return {};
  const slice = (x: TensorInfo, begin: number[], size: number[], backend: WasmBackendLike): TensorInfo => {
    const out = backend.makeOutput(size, x.dtype);
    copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    return out;
  };
  const sliceFunc = (args: { inputs: { x: TensorInfo }; attrs: { begin: number | number[]; size: number | number[] }; backend: WasmBackendLike }): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return stockSlice.kernelFunc(args as never) as TensorInfo;
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, args.attrs.begin, args.attrs.size);
    return slice(x, begin, size, args.backend);
  };
  const unpackFunc = (args: { inputs: { value: TensorInfo }; attrs: { axis: number }; backend: WasmBackendLike }): TensorInfo[] => {
    const { value } = args.inputs;
    if (value.dtype === 'string') return stockUnpack.kernelFunc(args as never) as TensorInfo[];
    const rank = value.shape.length;
    const axis = args.attrs.axis < 0 ? args.attrs.axis + rank : args.attrs.axis;
    const outShape = value.shape.filter((_, d) => d !== axis);
    const size = value.shape.slice();
    size[axis] = 1;
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      return { ...slice(value, begin, size, args.backend), shape: outShape };
    });
  };
  return {
    wasm: [
      { kernelName: 'Slice', backendName: 'wasm', kernelFunc: sliceFunc as unknown as KernelFunc },
      { kernelName: 'Unpack', backendName: 'wasm', kernelFunc: unpackFunc as unknown as KernelFunc },
    ],
  };
}
