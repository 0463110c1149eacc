import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { unsortedSegmentSumKernels } from '../../src/ml/kernels/unsorted-segment-sum.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Case {
  vocab: number;
  dim: number;
  ids: Int32Array;
  idsShape: number[];
  dy: Float32Array;
}

function makeCase(seed: number, vocab: number, dim: number, idsShape: number[]): Case {
  const rand = lcg(seed);
  const n = idsShape.reduce((a, b) => a * b, 1);
  const ids = Int32Array.from({ length: n }, () => Math.floor(rand() * vocab));
  ids[n - 1] = ids[0]!;
  const dy = Float32Array.from({ length: n * dim }, () => rand() * 2 - 1);
  return { vocab, dim, ids, idsShape, dy };
}

/** d/dtable of sum(gather(table, ids) * dy): the Embedding layer's gradient. */
function embeddingGradient(tf: Tf, c: Case): Float32Array {
  return tf.tidy(() => {
    const table = tf.zeros([c.vocab, c.dim]);
    const ids = tf.tensor(c.ids, c.idsShape, 'int32');
    const dy = tf.tensor(c.dy, [...c.idsShape, c.dim]);
    const grad = tf.grad((t: import('@tensorflow/tfjs-core').Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)))(table);
    return grad.dataSync() as Float32Array;
  });
}

function plainScatter(c: Case): Float32Array {
  const out = new Float32Array(c.vocab * c.dim);
  c.ids.forEach((id, i) => {
    for (let j = 0; j < c.dim; j++) out[id * c.dim + j]! += c.dy[i * c.dim + j]!;
  });
  return out;
}

const cases = [makeCase(1, 7, 3, [40]), makeCase(2, 50, 16, [8, 20]), makeCase(3, 3, 5, [6, 4])];

describe('UnsortedSegmentSum kernels (the Embedding gradient)', () => {
  let stockCpu: KernelConfig;
  let references: Float32Array[];

  beforeAll(async () => {
    const core = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    stockCpu = { ...core.getKernel('UnsortedSegmentSum', 'cpu') };
    expect(stockCpu.kernelFunc).not.toBe(unsortedSegmentSumKernels.cpu!.kernelFunc);
    const { tf } = await loadTf('cpu');
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')?.kernelFunc).toBe(unsortedSegmentSumKernels.cpu!.kernelFunc);
    tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
    tf.registerKernel(stockCpu);
    try {
      references = cases.map((c) => embeddingGradient(tf, c));
    } finally {
      tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
      tf.registerKernel(unsortedSegmentSumKernels.cpu!);
    }
  });

  it('the reference (stock cpu kernel) is a scatter-add, repeated ids summed', () => {
    cases.forEach((c, i) => expectClose(references[i]!, plainScatter(c)));
  });

  it('mlpipe cpu kernel equals the stock cpu kernel', async () => {
    const { tf } = await loadTf('cpu');
    cases.forEach((c, i) => expectClose(embeddingGradient(tf, c), references[i]!));
  });

  it('mlpipe wasm kernel equals the stock cpu kernel', async () => {
    const { tf, backend, kernels } = await loadTf('wasm');
    expect(backend).toBe('wasm');
    expect(kernels).toContain('UnsortedSegmentSum');
    cases.forEach((c, i) => expectClose(embeddingGradient(tf, c), references[i]!));
  });

  it('drops out-of-range segment ids and sums int32 values on wasm', async () => {
    const { tf } = await loadTf('wasm');
    const out = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]], [4, 2], 'int32'), tf.tensor1d([2, -1, 2, 5], 'int32'), 3).arraySync(),
    );
    expect(out).toEqual([[0, 0], [0, 0], [6, 8]]);
  });

  it('an Embedding model trains on wasm and its weights move only for seen ids', async () => {
    const { tf } = await loadTf('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 3, embeddingsInitializer: tf.initializers.randomUniform({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const before = model.layers[0]!.getWeights()[0]!.arraySync() as number[][];
    const x = tf.tensor2d([[1, 2, 2], [3, 1, 1]], [2, 3], 'int32');
    const y = tf.tensor2d([[1], [-1]]);
    await model.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0 });
    const after = model.layers[0]!.getWeights()[0]!.arraySync() as number[][];
    const moved = after.map((row, i) => row.some((v, j) => v !== before[i]![j]));
    expect(moved).toEqual([false, true, true, true, false, false, false, false, false, false]);
    tf.dispose([x, y]);
    model.dispose();
  });
});

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-5);
}

describe('Slice and Unpack on wasm read through heap views', () => {
  const shapes: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [[6, 5], [2, 1], [3, 3]],
    [[6, 5], [1, 0], [-1, 5]],
    [[4, 3, 5], [1, 1, 2], [2, 2, 2]],
    [[3, 4, 2, 3], [0, 1, 1, 0], [3, 2, 1, -1]],
  ];

  it('slices like the cpu backend, contiguous or not', async () => {
    const results: number[][][] = [[], []];
    for (const [i, backend] of (['cpu', 'wasm'] as const).entries()) {
      const { tf } = await loadTf(backend);
      if (backend === 'wasm') expect(tf.getKernel('Slice', 'wasm')?.kernelFunc).not.toBe(undefined);
      for (const [shape, begin, size] of shapes) {
        const n = shape.reduce((a, b) => a * b, 1);
        results[i]!.push(tf.tidy(() => Array.from(tf.slice(tf.tensor(Float32Array.from({ length: n }, (_, k) => k * 1.5), shape), begin, size).dataSync())));
      }
      results[i]!.push(tf.tidy(() => Array.from(tf.slice(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), [1, 0], [1, 2]).dataSync())));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]![1]).toEqual([11, 12, 13, 16, 17, 18, 21, 22, 23].map((k) => k * 1.5));
  });

  it('unstacks along any axis; string tensors still work', async () => {
    const { tf } = await loadTf('wasm');
    const x = tf.tensor3d(Float32Array.from({ length: 24 }, (_, k) => k), [2, 3, 4]);
    expect(tf.unstack(x, 1).map((t) => [t.shape, Array.from(t.dataSync())])).toEqual([
      [[2, 4], [0, 1, 2, 3, 12, 13, 14, 15]],
      [[2, 4], [4, 5, 6, 7, 16, 17, 18, 19]],
      [[2, 4], [8, 9, 10, 11, 20, 21, 22, 23]],
    ]);
    expect(tf.unstack(x, 2)[3]!.arraySync()).toEqual([[3, 7, 11], [15, 19, 23]]);
    expect(tf.slice(tf.tensor1d(['a', 'b', 'c'], 'string'), 1, 2).arraySync()).toEqual(['b', 'c']);
  });
});

describe('BatchMatMul and _FusedMatMul on wasm with transposed operands', () => {
  it('match the cpu backend for every transpose combination, batched and fused', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      const { tf } = await loadTf(backend);
      const rand = lcg(5);
      const t = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), shape);
      return tf.tidy(() => {
        const out: number[][] = [];
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const a = t(ta ? [2, 5, 3] : [2, 3, 5]);
          const b = t(tb ? [2, 4, 5] : [2, 5, 4]);
          out.push(Array.from(tf.matMul(a, b, ta, tb).dataSync()));
          const a2 = t(ta ? [5, 3] : [3, 5]);
          const b2 = t(tb ? [4, 5] : [5, 4]);
          out.push(Array.from(tf.fused.matMul({ a: a2, b: b2, transposeA: ta, transposeB: tb, bias: t([4]), activation: 'relu' }).dataSync()));
        }
        return out;
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    cpu.forEach((values, i) => values.forEach((v, j) => expect(wasm[i]![j]).toBeCloseTo(v, 5)));
  });
});

describe('GatherV2 on wasm', () => {
  it('matches the cpu backend along axis 0 and 1, with repeated ids, and rejects out-of-range ids', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      const { tf } = await loadTf(backend);
      return tf.tidy(() => {
        const table = tf.tensor3d(Float32Array.from({ length: 5 * 2 * 3 }, (_, k) => k / 2), [5, 2, 3]);
        const ids = tf.tensor2d([[4, 0, 4], [1, 1, 2]], [2, 3], 'int32');
        return [tf.gather(table, ids).arraySync(), tf.gather(table, tf.tensor1d([1, 0, 1], 'int32'), 1).arraySync(), tf.gather(tf.tensor1d([7, 8, 9], 'int32'), tf.tensor1d([2, 2], 'int32')).arraySync()];
      });
    };
    expect(await run('wasm')).toEqual(await run('cpu'));
    const { tf } = await loadTf('wasm');
    expect(() => tf.tidy(() => tf.gather(tf.tensor2d([[1], [2]]), tf.tensor1d([2], 'int32')))).toThrow(/index value 2 is not in \[0, 1\]/);
  });
});

describe('Identity on wasm', () => {
  it('a clone outlives its source and keeps the values', async () => {
    const { tf } = await loadTf('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    expect(b.dataId).toBe(a.dataId);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.clone(tf.tensor1d(['x'], 'string')).arraySync()).toEqual(['x']);
  });
});
