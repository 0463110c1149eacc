import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './backend-types.js';
import { simdKernelsOf, type SimdKernels } from './simd/simd-module.js';

/**
 * The fused LSTM kernels on the wasm backend: one call each into mlpipe's SIMD module
 * (assembly/simd/lstm.ts), which works on the tensors in tfjs-wasm's heap. Forward computes x·W
 * for all steps as one product, then per step h·U and the gate math; backward runs only
 * dh_{t−1} = dz_t·Uᵀ step by step and dx, dW, dU as one product each afterwards.
 */
export interface WasmLstmBackend {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): TensorInfo;
  disposeData(dataId: object): void;
}

type Args = KernelArgs<Record<string, TensorInfo>, { sequences?: boolean }, WasmLstmBackend>;

/** True when the backend's heap can run the SIMD kernels. */
export function hasWasmLstmEntryPoints(backend: unknown): boolean {
  return simdKernelsOf(backend) !== undefined;
}

function kernels(backend: WasmLstmBackend): SimdKernels {
  return simdKernelsOf(backend)!;
}

/** The byte address of `t` in the heap. */
function at(backend: WasmLstmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** hs, hLast, hPrevs, cs, tcs, gates — the layout of the cpu kernel's outputs. */
function forward({ inputs, backend }: Args): TensorInfo[] {
  const { x, w, u, b } = inputs as Record<string, TensorInfo>;
  const [B, T, D] = x!.shape as [number, number, number];
  const H = u!.shape[0]!;
  const seq = [B, T, H];
  const outs = [backend.makeOutput(seq, 'float32'), backend.makeOutput([B, H], 'float32'), backend.makeOutput(seq, 'float32'), backend.makeOutput(seq, 'float32'), backend.makeOutput(seq, 'float32'), backend.makeOutput([B, T, 4 * H], 'float32')];
  const [hs, hLast, hPrevs, cs, tcs, gates] = outs.map((t) => at(backend, t)) as [number, number, number, number, number, number];
  kernels(backend).lstmForward(at(backend, x!), at(backend, w!), at(backend, u!), at(backend, b!), hs, hLast, hPrevs, cs, tcs, gates, B, T, D, H);
  return outs;
}

/** dx, dW, dU, db. */
function backward({ inputs, attrs, backend }: Args): TensorInfo[] {
  const { dh, x, w, u, hPrevs, cs, tcs, gates } = inputs as Record<string, TensorInfo>;
  const [B, T, D] = x!.shape as [number, number, number];
  const H = u!.shape[0]!;
  const k = kernels(backend);
  const outs = [backend.makeOutput([B, T, D], 'float32'), backend.makeOutput(w!.shape, 'float32'), backend.makeOutput(u!.shape, 'float32'), backend.makeOutput([4 * H], 'float32')];
  const scratch = backend.makeOutput([k.lstmBackwardScratch(B, T, D, H)], 'float32');
  try {
    const p = (t: TensorInfo) => at(backend, t);
    k.lstmBackward(p(dh!), attrs.sequences === true ? 1 : 0, p(x!), p(w!), p(u!), p(hPrevs!), p(cs!), p(tcs!), p(gates!), p(outs[0]!), p(outs[1]!), p(outs[2]!), p(outs[3]!), p(scratch), B, T, D, H);
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return outs;
}

export const wasmLstmKernelFuncs = { forward: forward as unknown as KernelFunc, backward: backward as unknown as KernelFunc };
