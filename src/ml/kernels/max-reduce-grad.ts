import type { KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import type { CpuDataBackend, KernelArgs, WasmHeapBackend } from './backend-types.js';

/**
 * The gradient of a max reduction (global_max_pooling1d/2d, `tf.max`) as one kernel: tfjs-core's
 * `dy · cast(x == max)` is three broadcast kernels and two [batch, steps, channels] temporaries.
 * Same rule: every position equal to its maximum gets the gradient (ties all do).
 */
export const MAX_REDUCE_GRAD = 'MlpipeMaxReduceGrad';

/** x seen as [outer, reduced, inner] for axes that form one run; undefined when they do not. */
export function reductionBlocks(shape: readonly number[], axes: readonly number[]): { outer: number; reduced: number; inner: number } | undefined {
  const sorted = [...new Set(axes.map((a) => (a < 0 ? a + shape.length : a)))].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted[sorted.length - 1]! - sorted[0]! !== sorted.length - 1) return undefined;
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return { outer: prod(0, sorted[0]!), reduced: prod(sorted[0]!, sorted[sorted.length - 1]! + 1), inner: prod(sorted[sorted.length - 1]! + 1, shape.length) };
}

/** dx[o, r, i] = x[o, r, i] === y[o, i] ? dy[o, i] : 0. */
export function maxReduceBackprop(x: Float32Array, y: Float32Array, dy: Float32Array, blocks: { outer: number; reduced: number; inner: number }, dx: Float32Array): void {
  const { outer, reduced, inner } = blocks;
  let p = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    for (let r = 0; r < reduced; r++) {
      for (let i = 0; i < inner; i++, p++) dx[p] = x[p] === y[base + i] ? dy[base + i]! : 0;
    }
  }
}

type Args<B> = KernelArgs<{ dy: TensorInfo; x: TensorInfo; y: TensorInfo }, { axes: number[] }, B>;

export function maxReduceGradKernels(tf: Tf): Record<string, KernelConfig[]> {
  const out: Record<string, KernelConfig[]> = {};
  const wasm = ({ inputs, attrs, backend }: Args<WasmHeapBackend>): TensorInfo => {
    const dx = backend.makeOutput([...inputs.x.shape], 'float32');
    const v = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    maxReduceBackprop(v(inputs.x), v(inputs.y), v(inputs.dy), reductionBlocks(inputs.x.shape, attrs.axes)!, v(dx));
    return dx;
  };
  const cpu = ({ inputs, attrs, backend }: Args<CpuDataBackend>): TensorInfo => {
    const v = (t: TensorInfo) => backend.data.get(t.dataId).values;
    const dx = new Float32Array(v(inputs.x).length);
    maxReduceBackprop(v(inputs.x), v(inputs.y), v(inputs.dy), reductionBlocks(inputs.x.shape, attrs.axes)!, dx);
    return backend.makeTensorInfo([...inputs.x.shape], 'float32', dx);
  };
  if (tf.getKernel('Max', 'wasm')) out.wasm = [{ kernelName: MAX_REDUCE_GRAD, backendName: 'wasm', kernelFunc: wasm as unknown as KernelFunc }];
  if (tf.getKernel('Max', 'cpu')) out.cpu = [{ kernelName: MAX_REDUCE_GRAD, backendName: 'cpu', kernelFunc: cpu as unknown as KernelFunc }];
  return out;
}

const registered = new WeakSet<Tf>();

/**
 * Replaces the gradient of `Max` (for every backend): MAX_REDUCE_GRAD where the active backend has
 * it and the input is float32 with one run of reduced axes, else tfjs-core's own formula.
 */
export function registerMaxReduceGradient(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  tf.registerGradient({
    kernelName: 'Max',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
      const [x, y] = saved as [Tensor, Tensor];
      const g = dy as Tensor;
      const axes = tf.util.parseAxisParam((attrs as { reductionIndices: number | number[] }).reductionIndices, x.shape);
      const fast = x.dtype === 'float32' && g.dtype === 'float32' && reductionBlocks(x.shape, axes) !== undefined && tf.getKernel(MAX_REDUCE_GRAD, tf.getBackend()) !== undefined;
      return {
        x: () => {
          if (fast) return tf.engine().runKernel(MAX_REDUCE_GRAD, { dy: g, x, y }, { axes } as unknown as NamedAttrMap) as Tensor;
          const keep = (t: Tensor) => (t.rank < x.rank ? tf.reshape(t, tf.backend_util.expandShapeToKeepDim(t.shape, axes)) : t);
          return tf.mul(keep(g), tf.cast(tf.equal(x, keep(y)), g.dtype));
        },
      };
    },
  });
}
