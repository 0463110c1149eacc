import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { fusedConvLayerClasses } from '../../src/ml/kernels/fused-conv-layer.js';
import { CONV_FORWARD } from '../../src/ml/kernels/fused-conv.js';
import { outputsAndGrads, random, worstDifference } from './layer-grads.js';

type Layer = ReturnType<Tf['layers']['conv1d']>;


interface Case {
  rank: 1 | 2;
  activation: 'linear' | 'relu' | 'sigmoid';
  useBias: boolean;
  padding: 'valid' | 'same';
  strides: number;
}

const inputShape = (rank: 1 | 2) => (rank === 1 ? [3, 9, 4] : [2, 7, 6, 3]);

/** Output and gradients of a conv layer of `c` (weights from fixed seeds) on `backend`, mlpipe's class or the stock one. */
async function run(backend: 'cpu' | 'wasm', fused: boolean, c: Case): Promise<number[][]> {
  const { tf } = await loadTf(backend);
  const classes = fusedConvLayerClasses(tf);
  const args = { filters: 5, kernelSize: 3, activation: c.activation, useBias: c.useBias, padding: c.padding, strides: c.strides };
  const layer = fused ? new (c.rank === 1 ? classes.Conv1D : classes.Conv2D)(args) : c.rank === 1 ? tf.layers.conv1d(args) : tf.layers.conv2d(args);
  const shape = inputShape(c.rank);
  tf.tidy(() => layer.apply(tf.zeros(shape)));
  layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(random(w.size, 10 + i), w.shape)));
  const x = tf.tensor(random(shape.reduce((a, b) => a * b, 1), 1), shape);
  try {
    return outputsAndGrads(tf, layer, x);
  } finally {
    x.dispose();
    layer.dispose();
  }
}

const cases: Case[] = [
  { rank: 1, activation: 'relu', useBias: true, padding: 'valid', strides: 1 },
  { rank: 1, activation: 'linear', useBias: false, padding: 'same', strides: 2 },
  { rank: 1, activation: 'sigmoid', useBias: true, padding: 'same', strides: 1 },
  { rank: 2, activation: 'relu', useBias: true, padding: 'valid', strides: 1 },
  { rank: 2, activation: 'sigmoid', useBias: false, padding: 'same', strides: 2 },
  { rank: 2, activation: 'linear', useBias: true, padding: 'same', strides: 1 },
];

describe('fused conv layers', () => {
  for (const c of cases) {
    it(`match the stock conv${c.rank}d layer on the reference cpu backend (${c.activation}, bias ${c.useBias}, ${c.padding}, stride ${c.strides})`, async () => {
      const reference = await run('cpu', false, c);
      for (const backend of ['cpu', 'wasm'] as const) {
        const { tf } = await loadTf(backend);
        expect(tf.getKernel(CONV_FORWARD, backend)).toBeDefined();
        expect(worstDifference(await run(backend, true, c), reference)).toBeLessThan(2e-5);
      }
    });
  }

  it('run forward as one kernel, keep the stock class names and configs, and fall back for dilated convolutions', async () => {
    const { tf } = await loadTf('wasm');
    const { Conv1D, Conv2D } = fusedConvLayerClasses(tf);
    const names = async (layer: Layer, shape: number[]) => {
      const x = tf.zeros(shape);
      const profile = await tf.profile(() => tf.tidy(() => layer.apply(x) as Tensor));
      x.dispose();
      return profile.kernels.map((k) => k.name);
    };
    const conv2d = new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu' });
    expect((await names(conv2d, [1, 5, 5, 1])).filter((n) => n !== 'Reshape')).toEqual([CONV_FORWARD]);
    expect(conv2d.getClassName()).toBe('Conv2D');
    expect({ ...conv2d.getConfig(), name: null }).toEqual({ ...tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }).getConfig(), name: null });
    expect(new Conv1D({ filters: 2, kernelSize: 3 }).getClassName()).toBe('Conv1D');
    expect(await names(new Conv1D({ filters: 2, kernelSize: 2, dilationRate: 2, activation: 'relu' }), [1, 8, 2])).not.toContain(CONV_FORWARD);
  });
});
