import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { batchLoss } from '../../src/ml/losses.js';
import { lossSpecOf, type LossName, type LossSpec } from '../../src/ml/model-config.js';

/** The same losses as TensorFlow.js ops (Keras definitions), summed with weights. */
function reference(tf: Tf, loss: LossName, units: number, pred: Tensor, y: Tensor, w: Tensor): Tensor {
  const eps = 1e-7;
  const n = pred.shape[0]!;
  let per: Tensor;
  if (loss === 'binary_crossentropy') {
    const p = tf.clipByValue(tf.reshape(pred, [n]), eps, 1 - eps);
    per = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))));
  } else if (loss === 'sparse_categorical_crossentropy') {
    per = tf.neg(tf.log(tf.sum(tf.mul(tf.clipByValue(pred, eps, 1 - eps), tf.oneHot(tf.cast(y, 'int32'), units)), 1)));
  } else {
    const d = tf.sub(tf.reshape(pred, [n]), y);
    if (loss === 'mean_squared_error') per = tf.square(d);
    else if (loss === 'mean_absolute_error') per = tf.abs(d);
    else {
      const q = tf.minimum(tf.abs(d), 1);
      per = tf.add(tf.mul(0.5, tf.square(q)), tf.sub(tf.abs(d), q));
    }
  }
  return tf.sum(tf.mul(per, w));
}

const cases: { loss: LossName; kind: 'sigmoid' | 'softmax' | 'linear'; units: number; pred: number[]; y: number[] }[] = [
  { loss: 'binary_crossentropy', kind: 'sigmoid', units: 1, pred: [0.9, 0.2, 0.6, 0.01, 1], y: [1, 0, 0, 1, 1] },
  { loss: 'sparse_categorical_crossentropy', kind: 'softmax', units: 3, pred: [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.3, 0.3, 0.4, 0, 0.5, 0.5, 0.2, 0.7, 0.1], y: [0, 1, 2, 0, 1] },
  { loss: 'mean_squared_error', kind: 'linear', units: 1, pred: [1.5, -2, 0.3, 4, 0], y: [1, -1, 0.3, 2, 0.5] },
  { loss: 'mean_absolute_error', kind: 'linear', units: 1, pred: [1.5, -2, 0.3, 4, 0], y: [1, -1, 0.2, 2, 0.5] },
  { loss: 'huber', kind: 'linear', units: 1, pred: [1.5, -2, 0.3, 4, 0], y: [1, -1, 0.3, 2, 0.5] },
];

describe('batchLoss matches TensorFlow.js ops and their gradients', () => {
  for (const c of cases) {
    it(c.loss, async () => {
      const { tf } = await loadTf('cpu');
      const w = [1, 2, 0.5, 1, 3];
      const shape = [5, c.units];
      const expected = tf.tidy(() => {
        const y = tf.tensor1d(c.y);
        const wt = tf.tensor1d(w);
        const f = (p: Tensor) => reference(tf, c.loss, c.units, p, y, wt);
        const p = tf.tensor2d(c.pred, shape as [number, number]);
        return { loss: f(p).dataSync()[0]!, grad: Array.from(tf.grad(f)(p).dataSync()) };
      });
      const grad = new Float32Array(c.pred.length);
      const totals = batchLoss(c.loss, { kind: c.kind, units: c.units }, c.pred, c.y, w, grad);
      expect(totals.loss).toBeCloseTo(expected.loss, 4);
      Array.from(grad).forEach((g, i) => expect(g).toBeCloseTo(expected.grad[i]!, 3));
    });
  }

  it('scores: correct predictions for classification, absolute errors for regression', () => {
    expect(batchLoss('binary_crossentropy', { kind: 'sigmoid', units: 1 }, [0.9, 0.2, 0.6, 0.5], [1, 0, 0, 1], null).score).toBe(3);
    expect(batchLoss('sparse_categorical_crossentropy', { kind: 'softmax', units: 2 }, [0.2, 0.8, 0.6, 0.4], [1, 1], null).score).toBe(1);
    expect(batchLoss('mean_squared_error', { kind: 'linear', units: 1 }, [1, 2], [0, 4], null)).toEqual({ loss: 5, score: 3 });
  });
});

describe('Keras losses and settings: values and analytic gradients (issue 13 item 9)', () => {
  const spec = (name: LossSpec['name'], o: Partial<LossSpec> = {}) => lossSpecOf({ name, ...o });
  /** The gradient by central differences of the summed loss. */
  function numericGrad(loss: LossSpec, output: { kind: 'sigmoid' | 'softmax' | 'linear'; units: number }, pred: number[], y: number[]): number[] {
    return pred.map((_, j) => {
      const h = 1e-4;
      const up = [...pred];
      const down = [...pred];
      up[j]! += h;
      down[j]! -= h;
      return (batchLoss(loss, output, up, y, null).loss - batchLoss(loss, output, down, y, null).loss) / (2 * h);
    });
  }
  const cases: { label: string; loss: LossSpec; output: { kind: 'sigmoid' | 'softmax' | 'linear'; units: number }; pred: number[]; y: number[]; value?: number }[] = [
    { label: 'bce with label smoothing 0.2', loss: spec('binary_crossentropy', { label_smoothing: 0.2 }), output: { kind: 'sigmoid', units: 1 }, pred: [0.8, 0.3], y: [1, 0], value: -(0.9 * Math.log(0.8) + 0.1 * Math.log(0.2)) - (0.1 * Math.log(0.3) + 0.9 * Math.log(0.7)) },
    { label: 'binary focal, gamma 2, alpha 0.25', loss: spec('focal', { alpha: 0.25 }), output: { kind: 'sigmoid', units: 1 }, pred: [0.8, 0.3], y: [1, 0], value: 0.25 * 0.2 ** 2 * -Math.log(0.8) + 0.75 * 0.3 ** 2 * -Math.log(0.7) },
    { label: 'softmax focal, gamma 2', loss: spec('focal'), output: { kind: 'softmax', units: 3 }, pred: [0.7, 0.2, 0.1, 0.1, 0.3, 0.6], y: [0, 1], value: -(0.3 ** 2) * Math.log(0.7) - 0.7 ** 2 * Math.log(0.3) },
    { label: 'softmax cross-entropy with label smoothing 0.3', loss: spec('sparse_categorical_crossentropy', { label_smoothing: 0.3 }), output: { kind: 'softmax', units: 3 }, pred: [0.7, 0.2, 0.1], y: [0], value: -(0.8 * Math.log(0.7) + 0.1 * Math.log(0.2) + 0.1 * Math.log(0.1)) },
    { label: 'kl_divergence (one-hot: equals cross-entropy)', loss: spec('kl_divergence'), output: { kind: 'softmax', units: 2 }, pred: [0.6, 0.4], y: [1], value: -Math.log(0.4) },
    { label: 'mape', loss: spec('mean_absolute_percentage_error'), output: { kind: 'linear', units: 1 }, pred: [110, 45], y: [100, 50], value: 10 + 10 },
    { label: 'huber, delta 2', loss: spec('huber', { delta: 2 }), output: { kind: 'linear', units: 1 }, pred: [1, 5], y: [0, 0], value: 0.5 + 2 * (5 - 1) },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const grad = new Float32Array(c.pred.length);
      const total = batchLoss(c.loss, c.output, c.pred, c.y, null, grad);
      if (c.value !== undefined) expect(total.loss).toBeCloseTo(c.value, 5);
      const numeric = numericGrad(c.loss, c.output, c.pred, c.y);
      numeric.forEach((g, j) => expect(grad[j]).toBeCloseTo(g, 2));
    });
  }
});
