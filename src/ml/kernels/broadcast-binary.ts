import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

type NumericArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): NumericArray;
}

interface BinaryArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackendLike;
}

/** Row-major strides of `shape` padded on the left to `rank`, 0 along every axis where it has size 1 (broadcast). */
function broadcastStrides(shape: readonly number[], rank: number): number[] {
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank).fill(0);
  let step = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : step;
    step *= padded[d]!;
  }
  return strides;
}

/**
 * `out[i] = a[ia] == b[ib]` (1 or 0) or `a[ia] · b[ib]` over the broadcast shape `shape` of `a` (shape `aShape`) and `b`
 * (shape `bShape`), NumPy rules: the innermost axis runs as one loop, the outer ones as an odometer.
 */
export function broadcastBinary(a: NumericArray, aShape: readonly number[], b: NumericArray, bShape: readonly number[], shape: readonly number[], out: NumericArray, op: 'equal' | 'multiply'): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = op === 'equal' ? +(a[0] === b[0]) : a[0]! * b[0]!;
    return;
  }
  const sa = broadcastStrides(aShape, rank);
  const sb = broadcastStrides(bShape, rank);
  const inner = shape[rank - 1]!;
  const ia = sa[rank - 1]!;
  const ib = sb[rank - 1]!;
  const outer = shape.slice(0, -1).reduce((x, y) => x * y, 1);
  const idx = new Array<number>(rank - 1).fill(0);
  let offA = 0;
  let offB = 0;
  let o = 0;
  for (let row = 0; row < outer; row++) {
    if (op === 'equal') for (let j = 0, pa = offA, pb = offB; j < inner; j++, pa += ia, pb += ib) out[o++] = a[pa] === b[pb] ? 1 : 0;
    else for (let j = 0, pa = offA, pb = offB; j < inner; j++, pa += ia, pb += ib) out[o++] = a[pa]! * b[pb]!;
    for (let d = rank - 2; d >= 0; d--) {
      offA += sa[d]!;
      offB += sb[d]!;
      if (++idx[d]! < shape[d]!) break;
      offA -= sa[d]! * shape[d]!;
      offB -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Equal and Multiply for wasm when one operand is broadcast against the other: the stock wasm
 * kernels take a slow generic path there, and the gradient of every max pooling (global_max_pooling1d
 * of a text CNN: `dy · (x == max)` over [batch, steps, filters]) is exactly that. Same-shape operands
 * keep the stock (XNNPACK) kernels.
 */
export function broadcastBinaryKernels(tf: Tf): Record<string, KernelConfig[]> {
  const make = (name: string, dtypeOf: (a: TensorInfo) => string, op: 'equal' | 'multiply'): KernelConfig | undefined => {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) return undefined;
    const kernelFunc = (args: BinaryArgs): TensorInfo => {
      const { a, b } = args.inputs;
      const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
      if (same || a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'int32')) return stock.kernelFunc(args as never) as TensorInfo;
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = args.backend.makeOutput(shape, dtypeOf(a));
      broadcastBinary(args.backend.typedArrayFromHeap(a), a.shape, args.backend.typedArrayFromHeap(b), b.shape, shape, args.backend.typedArrayFromHeap(out), op);
      return out;
    };
    return { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
  };
  const configs = [make('Equal', () => 'bool', 'equal'), make('Multiply', (a) => a.dtype, 'multiply')].filter((c): c is KernelConfig => c !== undefined);
  return configs.length > 0 ? { wasm: configs } : {};
}
