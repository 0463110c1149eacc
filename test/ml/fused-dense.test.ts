import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { fusedDenseLayerClass } from '../../src/ml/kernels/fused-dense-layer.js';
import { DENSE_FORWARD, denseActivationGrad } from '../../src/ml/kernels/fused-dense.js';
import { outputsAndGrads, random, worstDifference } from './layer-grads.js';

type Layer = ReturnType<Tf['layers']['dense']>;


type Act = 'linear' | 'relu' | 'sigmoid';

/** The weights, output and gradients of a dense layer of `args` built with `Dense` on `backend`, weights from fixed seeds. */
async function run(backend: 'cpu' | 'wasm', fused: boolean, args: { units: number; activation: Act; useBias: boolean }): Promise<number[][]> {
  const { tf } = await loadTf(backend);
  const Dense = fusedDenseLayerClass(tf);
  const layer = fused ? new Dense(args) : tf.layers.dense(args);
  tf.tidy(() => layer.apply(tf.zeros([1, 6])));
  layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(random(w.size, 10 + i), w.shape)));
  const x = tf.tensor2d(random(5 * 6, 1), [5, 6]);
  try {
    return outputsAndGrads(tf, layer, x);
  } finally {
    x.dispose();
    layer.dispose();
  }
}

describe('fused dense layer', () => {
  for (const activation of ['linear', 'relu', 'sigmoid'] as const) {
    for (const useBias of [true, false]) {
      it(`matches the stock dense layer on the reference cpu backend (${activation}, bias ${useBias})`, async () => {
        const args = { units: 4, activation, useBias };
        const reference = await run('cpu', false, args);
        for (const backend of ['cpu', 'wasm'] as const) {
          const { tf } = await loadTf(backend);
          expect(tf.getKernel(DENSE_FORWARD, backend)).toBeDefined();
          expect(worstDifference(await run(backend, true, args), reference)).toBeLessThan(1e-5);
        }
      });
    }
  }

  it('computes only the gradients the tape needs: no input gradient for a layer fed by data', async () => {
    const { tf } = await loadTf('wasm');
    const Dense = fusedDenseLayerClass(tf);
    const count = async (layer: Layer): Promise<Record<string, number>> => {
      tf.tidy(() => layer.apply(tf.zeros([1, 8])));
      const x = tf.tensor2d(random(16 * 8, 3), [16, 8]);
      const weights = layer.trainableWeights.map((w) => w.read());
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as Tensor) as never, weights as never);
        tf.dispose([value, ...Object.values(grads)]);
      });
      x.dispose();
      layer.dispose();
      const out: Record<string, number> = {};
      for (const k of profile.kernels) out[k.name] = (out[k.name] ?? 0) + 1;
      return out;
    };
    const fused = await count(new Dense({ units: 3, activation: 'relu' }));
    const stock = await count(tf.layers.dense({ units: 3, activation: 'relu' }));
    // One matmul for the kernel's gradient; the stock fused matmul also multiplies out ∂loss/∂x.
    expect(fused.BatchMatMul).toBe(1);
    expect(stock.BatchMatMul).toBe(2);
    expect(fused[DENSE_FORWARD]).toBe(1);
  });

  it('saves as a plain Dense layer and falls back to the stock path for other activations', async () => {
    const { tf } = await loadTf('wasm');
    const Dense = fusedDenseLayerClass(tf);
    const fused = new Dense({ units: 2, activation: 'tanh' });
    const stock = tf.layers.dense({ units: 2, activation: 'tanh' });
    expect(fused.getClassName()).toBe('Dense');
    expect({ ...fused.getConfig(), name: null }).toEqual({ ...stock.getConfig(), name: null });
    const x = tf.tensor2d(random(6, 4), [3, 2]);
    const profile = await tf.profile(() => tf.tidy(() => fused.apply(x) as Tensor));
    expect(profile.kernels.map((k) => k.name)).not.toContain(DENSE_FORWARD);
    expect(profile.kernels.map((k) => k.name)).toContain('Tanh');
    tf.dispose(x);
  });

  it('turns ∂loss/∂y into ∂loss/∂z and the bias gradient (denseActivationGrad)', () => {
    const dy = Float32Array.from([1, -2, 3, 4]);
    const y = Float32Array.from([0.5, 0, 0.25, 2]);
    const dz = new Float32Array(4);
    const db = new Float32Array(2);
    denseActivationGrad(dy, y, 2, 'relu', dz, db);
    expect(Array.from(dz)).toEqual([1, 0, 3, 4]);
    expect(Array.from(db)).toEqual([4, 4]);
    denseActivationGrad(dy, y, 2, 'sigmoid', dz);
    expect(Array.from(dz)).toEqual([0.25, -0, 3 * 0.25 * 0.75, 4 * 2 * -1]);
  });
});
