import { describe, expect, it } from 'vitest';
import type { Optimizer, Variable } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { createInPlaceOptimizer, type UpdateRule } from '../../src/ml/kernels/in-place-optimizers.js';
import { lcg } from './fixtures.js';

function stock(tf: Tf, rule: UpdateRule, lr: number): Optimizer {
  switch (rule) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, 0.9);
    case 'adam':
      return tf.train.adam(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.9, 0.5);
    case 'adagrad':
      return tf.train.adagrad(lr);
  }
}

/** Five steps of minimizing a quadratic with random targets; returns the final weights. */
function optimize(tf: Tf, optimizer: Optimizer, shared: boolean): Float32Array {
  const rand = lcg(3);
  const target = tf.tensor2d(Float32Array.from({ length: 12 }, () => rand() * 4 - 2), [3, 4]);
  const w: Variable = tf.variable(tf.tensor2d(Float32Array.from({ length: 12 }, () => rand()), [3, 4]));
  const alias = shared ? w.clone() : null;
  for (let step = 0; step < 5; step++) optimizer.minimize(() => tf.sum(tf.square(tf.mul(tf.sub(w, target), tf.add(w, 1)))), false, [w]);
  const out = w.dataSync() as Float32Array;
  tf.dispose([target, w, ...(alias ? [alias] : [])]);
  return out.slice();
}

describe('in-place optimizers match TensorFlow.js', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const rule of ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'] as const) {
      it(`${rule} on ${backend}`, async () => {
        const { tf } = await loadTf(backend);
        const lr = 0.05;
        const expected = optimize(tf, stock(tf, rule, lr), false);
        const inPlace = optimize(tf, createInPlaceOptimizer(tf, { rule, learningRate: lr, momentum: rule === 'rmsprop' ? 0.5 : 0.9 }), false);
        const copied = optimize(tf, createInPlaceOptimizer(tf, { rule, learningRate: lr, momentum: rule === 'rmsprop' ? 0.5 : 0.9 }), true);
        for (let i = 0; i < expected.length; i++) {
          expect(inPlace[i]).toBeCloseTo(expected[i]!, 5);
          expect(copied[i]).toBe(inPlace[i]);
        }
      });
    }
  }

  it('does not write through a tensor that shares the variable storage', async () => {
    const { tf } = await loadTf('wasm');
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = w.clone();
    createInPlaceOptimizer(tf, { rule: 'sgd', learningRate: 1 }).minimize(() => tf.sum(w), false, [w]);
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(w.dataSync())).toEqual([0, 1, 2]);
    tf.dispose([w, snapshot]);
  });
});

describe('in-place updates and cached matmul weights', () => {
  it('a dense layer trained on wasm follows the stock optimizer (XNNPACK repacks the updated weights)', async () => {
    const { tf } = await loadTf('wasm');
    const rand = lcg(8);
    const x = tf.tensor2d(Float32Array.from({ length: 32 * 6 }, () => rand() * 2 - 1), [32, 6]);
    const y = tf.tensor2d(Float32Array.from({ length: 32 * 2 }, () => rand()), [32, 2]);
    const train = (optimizer: Optimizer): number[] => {
      const w = tf.variable(tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), [6, 2]));
      for (let step = 0; step < 20; step++) optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y))), false, [w]);
      const out = Array.from(w.dataSync());
      w.dispose();
      return out;
    };
    const expected = train(tf.train.adam(0.1));
    const actual = train(createInPlaceOptimizer(tf, { rule: 'adam', learningRate: 0.1 }));
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    tf.dispose([x, y]);
  });
});
