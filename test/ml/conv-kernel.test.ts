import { describe, expect, it } from 'vitest';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { loadTf } from '../../src/ml/backend.js';
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
  // more than 512 weights: the im2col + XNNPACK matmul path (the cases above accumulate directly)
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
