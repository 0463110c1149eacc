import type { TensorInfo } from '@tensorflow/tfjs-core';

/** What mlpipe's kernels use of the wasm backend: float32 tensors as views of its heap. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** What mlpipe's kernels use of the cpu backend: float32 tensors as JS arrays. */
export interface CpuDataBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

/** A kernel's arguments on backend `B`. */
export interface KernelArgs<I, A, B> {
  inputs: I;
  attrs: A;
  backend: B;
}
