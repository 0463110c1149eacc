import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf } from '../../src/ml/backend.js';
import { broadcastBinary } from '../../src/ml/kernels/broadcast-binary.js';
import { lcg } from './fixtures.js';

const shapes: [number[], number[]][] = [
  [[4, 7, 5], [4, 1, 5]],
  [[4, 1, 5], [4, 7, 5]],
  [[3, 6], [6]],
  [[2, 3, 4, 5], [1, 3, 1, 5]],
  [[5, 1], [1, 6]],
  [[6], []],
];

async function ops(backend: 'cpu' | 'wasm', a: number[], b: number[], seed: number) {
  const { tf } = await loadTf(backend);
  const rand = lcg(seed);
  // Small integers, so equal() has ties to find.
  const values = (shape: number[]) => Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => Math.floor(rand() * 3));
  return tf.tidy(() => {
    const x = tf.tensor(values(a), a);
    const y = tf.tensor(values(b), b);
    return { equal: Array.from((tf.equal(x, y) as Tensor).dataSync()), mul: Array.from((tf.mul(x, y) as Tensor).dataSync()), shape: (tf.mul(x, y) as Tensor).shape };
  });
}

describe('broadcasting Equal and Multiply on wasm (the gradient of max pooling)', () => {
  it('are registered by mlpipe on wasm', async () => {
    const { kernels } = await loadTf('wasm');
    expect(kernels).toEqual(expect.arrayContaining(['Equal', 'Multiply']));
  });

  for (const [i, [a, b]] of shapes.entries()) {
    it(`match the cpu backend: [${a}] with [${b}]`, async () => {
      const cpu = await ops('cpu', a, b, i + 1);
      const wasm = await ops('wasm', a, b, i + 1);
      expect(wasm).toEqual(cpu);
    });
  }

  it('broadcastBinary follows NumPy rules on a literal case', () => {
    const out = new Float32Array(6);
    broadcastBinary(Float32Array.from([1, 2, 3]), [3, 1], Float32Array.from([10, 20]), [2], [3, 2], out, 'multiply');
    expect(Array.from(out)).toEqual([10, 20, 20, 40, 30, 60]);
  });
});
