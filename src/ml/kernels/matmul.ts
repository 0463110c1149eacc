import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

interface MatMulArgs {
  inputs: Record<string, TensorInfo>;
  attrs: { transposeA: boolean; transposeB: boolean } & Record<string, unknown>;
  backend: WasmBackendLike;
}

/** A new heap tensor holding `x` with its last two axes swapped. */
export function transposeLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const rows = x.shape[rank - 2]!;
  const cols = x.shape[rank - 1]!;
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const plane = rows * cols;
  for (let base = 0; base < src.length; base += plane) {
    for (let i = 0; i < rows; i++) {
      const s = base + i * cols;
      for (let j = 0; j < cols; j++) dst[base + j * rows + i] = src[s + j]!;
    }
  }
  return out;
}

/**
 * BatchMatMul and _FusedMatMul for wasm that transpose a transposed operand up front: the stock
 * kernels run transposed operands through a scalar loop about eight times slower than XNNPACK's
 * path, and every dense layer's gradient multiplies by a transposed matrix.
 */
export function matMulKernels(tf: Tf): Record<string, KernelConfig[]> {
  const wrap = (name: string): KernelConfig | undefined => {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) return undefined;
    const kernelFunc = (args: MatMulArgs): TensorInfo => {
      const { transposeA, transposeB } = args.attrs;
      const { a, b } = args.inputs;
      if ((!transposeA && !transposeB) || a!.dtype !== 'float32' || b!.dtype !== 'float32') return stock.kernelFunc(args as never) as TensorInfo;
      const temps: TensorInfo[] = [];
      const materialize = (t: TensorInfo, flag: boolean): TensorInfo => {
        if (!flag) return t;
        const out = transposeLastTwo(args.backend, t);
        temps.push(out);
        return out;
      };
      const inputs = { ...args.inputs, a: materialize(a!, transposeA), b: materialize(b!, transposeB) };
      try {
        return stock.kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } } as never) as TensorInfo;
      } finally {
        for (const t of temps) args.backend.disposeData(t.dataId);
      }
    };
    return { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
  };
  const configs = [wrap('BatchMatMul'), wrap('_FusedMatMul')].filter((c): c is KernelConfig => c !== undefined);
  return configs.length > 0 ? { wasm: configs } : {};
}
