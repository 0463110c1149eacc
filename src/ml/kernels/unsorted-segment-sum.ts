import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

type NumericArray = Float32Array | Int32Array;

/** The slice of the wasm backend's internals this kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): NumericArray;
}

/** The slice of the JS backend's internals this kernel uses. */
interface CpuBackendLike {
  data: { get(dataId: object): { values: NumericArray } };
  makeTensorInfo(shape: number[], dtype: string, values: NumericArray): TensorInfo;
}

interface SegmentSumArgs<B> {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  attrs: { numSegments: number };
  backend: B;
}

function outputShape(x: TensorInfo, segmentIds: TensorInfo, numSegments: number): { shape: number[]; inner: number } {
  const rest = x.shape.slice(segmentIds.shape.length);
  return { shape: [numSegments, ...rest], inner: rest.reduce((a, b) => a * b, 1) };
}

/**
 * `out[ids[i], :] += x[i, :]`, ids outside `[0, numSegments)` dropped as TensorFlow does.
 * `out` must be zeroed by the caller.
 */
export function scatterAdd(x: NumericArray, ids: ArrayLike<number>, inner: number, numSegments: number, out: NumericArray): void {
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
}

function wasmUnsortedSegmentSum({ inputs, attrs, backend }: SegmentSumArgs<WasmBackendLike>): TensorInfo {
  const { x, segmentIds } = inputs;
  const { shape, inner } = outputShape(x, segmentIds, attrs.numSegments);
  const out = backend.makeOutput(shape, x.dtype);
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  scatterAdd(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds), inner, attrs.numSegments, outValues);
  return out;
}

function cpuUnsortedSegmentSum({ inputs, attrs, backend }: SegmentSumArgs<CpuBackendLike>): TensorInfo {
  const { x, segmentIds } = inputs;
  const { shape, inner } = outputShape(x, segmentIds, attrs.numSegments);
  const outValues = x.dtype === 'int32' ? new Int32Array(attrs.numSegments * inner) : new Float32Array(attrs.numSegments * inner);
  scatterAdd(backend.data.get(x.dataId).values, backend.data.get(segmentIds.dataId).values, inner, attrs.numSegments, outValues);
  return backend.makeTensorInfo(shape, x.dtype, outValues);
}

/**
 * UnsortedSegmentSum (the Embedding/Gather gradient) as one scatter-add over the input: the wasm
 * backend has no such kernel, and the JS backend's runs five ops per segment (per vocabulary entry).
 */
export const unsortedSegmentSumKernels: Record<string, KernelConfig> = {
  wasm: {
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: wasmUnsortedSegmentSum as unknown as KernelFunc,
  },
  cpu: {
    kernelName: 'UnsortedSegmentSum',
    backendName: 'cpu',
    kernelFunc: cpuUnsortedSegmentSum as unknown as KernelFunc,
  },
};
