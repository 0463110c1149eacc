import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { fusedLstmLayerClass } from '../../src/ml/kernels/fused-lstm-layer.js';
import { LSTM_FORWARD } from '../../src/ml/kernels/fused-lstm.js';
import { outputsAndGrads, random, worstDifference } from './layer-grads.js';

type Layer = ReturnType<Tf['layers']['lstm']>;

function pair(tf: Tf, args: Parameters<Tf['layers']['lstm']>[0], inputShape: number[]): [Layer, Layer] {
  const Fused = fusedLstmLayerClass(tf);
  const stock = tf.layers.lstm(args);
  const fused = new Fused(args);
  tf.tidy(() => {
    stock.apply(tf.zeros(inputShape));
    fused.apply(tf.zeros(inputShape));
  });
  fused.setWeights(stock.getWeights().map((w, i) => tf.tensor(random(w.size, 10 + i), w.shape)));
  stock.setWeights(fused.getWeights());
  return [stock, fused];
}

function expectAllClose(actual: number[][], expected: number[][]): void {
  expect(worstDifference(actual, expected)).toBeLessThan(2e-5);
}

describe('fused LSTM', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const returnSequences of [false, true]) {
      for (const goBackwards of [false, true]) {
        it(`matches the stock LSTM output and gradients on ${backend} (returnSequences ${returnSequences}, goBackwards ${goBackwards})`, async () => {
          const { tf } = await loadTf(backend);
          expect(tf.getKernel(LSTM_FORWARD, backend)).toBeDefined();
          const args = { units: 5, returnSequences, goBackwards, recurrentActivation: 'sigmoid' as const };
          const [stock, fused] = pair(tf, args, [3, 7, 4]);
          const x = tf.tensor3d(random(3 * 7 * 4, 1), [3, 7, 4]);
          expectAllClose(outputsAndGrads(tf, fused, x), outputsAndGrads(tf, stock, x));
          tf.dispose([x]);
          stock.dispose();
          fused.dispose();
        });
      }
    }
  }

  it('matches the stock LSTM on wasm at a training size (batch 64, 20 steps, 16 features, 32 units)', async () => {
    const { tf } = await loadTf('wasm');
    const [stock, fused] = pair(tf, { units: 32, recurrentActivation: 'sigmoid' }, [64, 20, 16]);
    const x = tf.tensor3d(random(64 * 20 * 16, 4), [64, 20, 16]);
    expect(worstDifference(outputsAndGrads(tf, fused, x), outputsAndGrads(tf, stock, x))).toBeLessThan(1e-4);
    tf.dispose(x);
    stock.dispose();
    fused.dispose();
  });

  // The SIMD kernels' remainders: 6 rows of batch (a block of 4 and 2 single rows), 6 units (gate
  // quarters not 4-aligned), 5 features (matmul columns and K off the 4×8 blocks).
  for (const returnSequences of [false, true]) {
    it(`matches the stock LSTM on wasm off the SIMD blocks (batch 6, 9 steps, 5 features, 6 units, returnSequences ${returnSequences})`, async () => {
      const { tf } = await loadTf('wasm');
      const [stock, fused] = pair(tf, { units: 6, returnSequences, recurrentActivation: 'sigmoid' }, [6, 9, 5]);
      const x = tf.tensor3d(random(6 * 9 * 5, 5), [6, 9, 5]);
      expectAllClose(outputsAndGrads(tf, fused, x), outputsAndGrads(tf, stock, x));
      tf.dispose(x);
      stock.dispose();
      fused.dispose();
    });
  }

  it('runs as one forward kernel (no per-step ops) and saves as a plain LSTM', async () => {
    const { tf } = await loadTf('wasm');
    const [stock, fused] = pair(tf, { units: 4, recurrentActivation: 'sigmoid' }, [2, 6, 3]);
    const x = tf.tensor3d(random(36, 2), [2, 6, 3]);
    const count = async (layer: Layer) => (await tf.profile(() => tf.tidy(() => layer.apply(x) as Tensor))).kernels.length;
    const fusedOps = await count(fused);
    expect(fusedOps).toBeLessThanOrEqual(10);
    expect(await count(stock)).toBeGreaterThan(5 * fusedOps);
    expect(fused.getClassName()).toBe('LSTM');
    expect({ ...fused.getConfig(), name: null }).toEqual({ ...stock.getConfig(), name: null });
    tf.dispose(x);
  });

  it('falls back to the stock implementation with a hard_sigmoid gate activation', async () => {
    const { tf } = await loadTf('cpu');
    const [stock, fused] = pair(tf, { units: 3, recurrentActivation: 'hardSigmoid' }, [2, 4, 2]);
    const x = tf.tensor3d(random(16, 3), [2, 4, 2]);
    expectAllClose(outputsAndGrads(tf, fused, x), outputsAndGrads(tf, stock, x));
    tf.dispose(x);
  });
});
