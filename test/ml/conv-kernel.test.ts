import { describe, expect, it } from 'vitest';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { loadTf } from '../../src/ml/backend.js';
import { accumulateFilterGradient, convGeometry } from '../../src/ml/kernels/conv-backprop-filter.js';
import { lcg } from './fixtures.js';

interface ConvCase {
  x: number[];
  filter: number[];
  strides: [number, number];
  pad: 'valid' | 'same';
}

const cases: ConvCase[] = [
  { x: [2, 5, 7, 3], filter: [3, 2, 3, 4], strides: [1, 1], pad: 'valid' },
  { x: [3, 6, 6, 2], filter: [3, 3, 2, 5], strides: [2, 2], pad: 'same' },
  { x: [4, 1, 9, 6], filter: [1, 3, 6, 8], strides: [1, 1], pad: 'same' },
  { x: [1, 8, 8, 1], filter: [2, 2, 1, 3], strides: [2, 1], pad: 'valid' },
  // more weights (every case goes through im2col + XNNPACK; direct accumulation is tested below)
  { x: [2, 6, 7, 8], filter: [3, 3, 8, 16], strides: [1, 1], pad: 'same' },
  { x: [3, 1, 20, 16], filter: [1, 3, 16, 64], strides: [1, 2], pad: 'valid' },
];

/** d/dfilter and d/dx of sum(conv2d(x, filter) · dy) on the active backend. */
async function convGradients(backend: 'cpu' | 'wasm', c: ConvCase, seed: number): Promise<{ dFilter: Float32Array; dx: Float32Array }> {
  const { tf } = await loadTf(backend);
  const rand = lcg(seed);
  const values = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  return tf.tidy(() => {
    const x = tf.tensor(values(c.x), c.x) as Tensor4D;
    const filter = tf.tensor(values(c.filter), c.filter) as Tensor4D;
    const outShape = (tf.conv2d(x, filter, c.strides, c.pad) as Tensor).shape;
    const dy = tf.tensor(values(outShape), outShape);
    const [dx, dFilter] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, c.strides, c.pad), dy)))([x, filter]);
    return { dFilter: dFilter!.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array };
  });
}

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm (mlpipe registers them: the stock wasm backend has no filter gradient and a scalar-loop input gradient)', () => {
  it('is registered by mlpipe on wasm', async () => {
    const { tf, kernels } = await loadTf('wasm');
    expect(kernels).toContain('Conv2DBackpropFilter');
    expect(kernels).toContain('Conv2DBackpropInput');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  for (const [i, c] of cases.entries()) {
    it(`matches the cpu backend's gradient: x [${c.x}] filter [${c.filter}] strides [${c.strides}] ${c.pad}`, async () => {
      const cpu = await convGradients('cpu', c, i + 1);
      const wasm = await convGradients('wasm', c, i + 1);
      expect(wasm.dFilter.length).toBe(cpu.dFilter.length);
      for (let j = 0; j < cpu.dFilter.length; j++) expect(wasm.dFilter[j]).toBeCloseTo(cpu.dFilter[j]!, 4);
      for (let j = 0; j < cpu.dx.length; j++) expect(wasm.dx[j]).toBeCloseTo(cpu.dx[j]!, 4);
    });
  }
});

describe('direct accumulation of the filter gradient (for batches whose im2col matrix would be too big)', () => {
  it('gives the im2col kernel\'s gradient', async () => {
    const { tf } = await loadTf('wasm');
    const rand = lcg(11);
    const c = { x: [3, 7, 6, 2], filter: [3, 2, 2, 5], strides: [2, 1] as [number, number], pad: 'same' as const };
    const values = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
    const x = tf.tensor4d(values(c.x), c.x as [number, number, number, number]);
    const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.filter as [number, number, number, number], c.strides, 1, c.pad);
    const dy = tf.tensor4d(values(info.outShape), info.outShape);
    const viaKernel = (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as Tensor).dataSync();
    const direct = new Float32Array(viaKernel.length);
    accumulateFilterGradient(x.dataSync() as Float32Array, dy.dataSync() as Float32Array, convGeometry(info), info.outChannels, direct);
    for (let j = 0; j < direct.length; j++) expect(direct[j]).toBeCloseTo(viaKernel[j]!, 4);
    tf.dispose([x, dy]);
  });
});

interface PoolCase {
  x: number[];
  size: [number, number];
  strides: [number, number];
  pad: 'valid' | 'same';
  /** Round inputs to this many levels so windows hold ties (as ReLU zeros do). */
  levels?: number;
}

const poolCases: PoolCase[] = [
  { x: [4, 26, 26, 8], size: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [2, 7, 9, 3], size: [3, 3], strides: [1, 1], pad: 'same' },
  { x: [3, 1, 15, 4], size: [1, 3], strides: [1, 2], pad: 'valid' },
  { x: [2, 6, 6, 5], size: [2, 2], strides: [1, 1], pad: 'valid', levels: 2 },
  { x: [2, 5, 5, 2], size: [3, 2], strides: [2, 2], pad: 'same', levels: 1 },
  // 2×2 windows (unrolled when whole) beside clipped ones at the border, with ties, odd channels
  { x: [2, 7, 5, 3], size: [2, 2], strides: [2, 2], pad: 'same', levels: 2 },
  { x: [3, 9, 8, 5], size: [2, 2], strides: [2, 2], pad: 'same' },
  { x: [2, 6, 7, 7], size: [2, 2], strides: [1, 1], pad: 'same', levels: 3 },
];

async function poolGradient(backend: 'cpu' | 'wasm', c: PoolCase, seed: number): Promise<Float32Array> {
  const { tf } = await loadTf(backend);
  const rand = lcg(seed);
  const n = c.x.reduce((a, b) => a * b, 1);
  const xs = Float32Array.from({ length: n }, () => (c.levels ? Math.floor(rand() * c.levels) : rand() * 2 - 1));
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x as [number, number, number, number]);
    const outShape = tf.maxPool(x, c.size, c.strides, c.pad).shape;
    const dy = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), outShape);
    const [dx] = tf.grads((a: Tensor) => tf.sum(tf.mul(tf.maxPool(a as Tensor4D, c.size, c.strides, c.pad), dy)))([x]);
    return dx!.dataSync() as Float32Array;
  });
}

describe('MaxPoolGrad on wasm (mlpipe registers one pass over the windows)', () => {
  it('is registered by mlpipe on wasm', async () => {
    const { kernels } = await loadTf('wasm');
    expect(kernels).toContain('MaxPoolGrad');
  });

  for (const [i, c] of poolCases.entries()) {
    it(`matches the cpu backend: x [${c.x}] size [${c.size}] strides [${c.strides}] ${c.pad}${c.levels ? `, ties (${c.levels} levels)` : ''}`, async () => {
      const cpu = await poolGradient('cpu', c, i + 21);
      const wasm = await poolGradient('wasm', c, i + 21);
      expect(wasm.length).toBe(cpu.length);
      for (let j = 0; j < cpu.length; j++) expect(wasm[j]).toBeCloseTo(cpu[j]!, 5);
    });
  }
});
