import { expect } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Tf } from '../../src/ml/backend.js';
import { lcg } from './fixtures.js';

/** Values in [-1, 1) from a fixed seed. */
export function random(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

interface LayerLike {
  apply(x: Tensor): unknown;
  trainableWeights: { read(): Tensor }[];
}

/** Output, d(loss)/d(input) and d(loss)/d(each trainable weight, in order) of `layer` on `x`, loss = sum(output · probe). */
export function outputsAndGrads(tf: Tf, layer: LayerLike, x: Tensor): number[][] {
  return tf.tidy(() => {
    const y = layer.apply(x) as Tensor;
    const probe = tf.tensor(random(y.size, 99), y.shape);
    const loss = (input: Tensor) => tf.sum(tf.mul(layer.apply(input) as Tensor, probe));
    const dx = tf.grad(loss)(x);
    const { grads } = tf.variableGrads(() => loss(x) as never, layer.trainableWeights.map((w) => w.read()) as never);
    return [y, dx, ...layer.trainableWeights.map((w) => grads[w.read().name]!)].map((t) => Array.from(t.dataSync()));
  });
}

/** The largest absolute difference between two lists of arrays of the same lengths. */
export function worstDifference(actual: number[][], expected: number[][]): number {
  expect(actual.map((a) => a.length)).toEqual(expected.map((e) => e.length));
  let worst = 0;
  actual.forEach((a, i) => a.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - expected[i]![j]!)))));
  return worst;
}
