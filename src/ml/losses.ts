import type { OutputKind } from './build-model.js';
import type { LossName } from './model-config.js';

const EPS = 1e-7;

/** Totals over a batch: the weighted loss sum, and the correct count (classification) or absolute-error sum (regression). */
export interface BatchTotals {
  loss: number;
  score: number;
}

/**
 * Loss of a batch of model outputs `pred` (row-major, `units` per sample) against labels `y` (class
 * index, or value), with optional per-sample weights: the sum of w·loss over samples. When `grad`
 * is given it receives ∂(sum)/∂pred. Probabilities are clipped to [1e-7, 1 − 1e-7] (no gradient
 * where clipped), as Keras does. Plain JS: one pass instead of a dozen tensor ops and their gradients.
 */
export function batchLoss(
  loss: LossName,
  output: { kind: OutputKind; units: number },
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  w: ArrayLike<number> | null,
  grad?: Float32Array,
): BatchTotals {
  const n = y.length;
  const units = output.units;
  let total = 0;
  let score = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    const yi = y[i]!;
    let l: number;
    if (output.kind === 'linear') {
      const d = pred[i]! - yi;
      const e = Math.abs(d);
      score += e;
      if (loss === 'mean_absolute_error') {
        l = e;
        if (grad) grad[i] = wi * Math.sign(d);
      } else if (loss === 'huber') {
        l = e <= 1 ? 0.5 * d * d : e - 0.5;
        if (grad) grad[i] = wi * (e <= 1 ? d : Math.sign(d));
      } else {
        l = d * d;
        if (grad) grad[i] = wi * 2 * d;
      }
    } else if (output.kind === 'sigmoid') {
      const raw = pred[i]!;
      const p = Math.min(Math.max(raw, EPS), 1 - EPS);
      if ((raw >= 0.5 ? 1 : 0) === yi) score++;
      l = -(yi * Math.log(p) + (1 - yi) * Math.log(1 - p));
      if (grad) grad[i] = raw < EPS || raw > 1 - EPS ? 0 : (wi * (p - yi)) / (p * (1 - p));
    } else {
      const base = i * units;
      let best = 0;
      for (let c = 1; c < units; c++) if (pred[base + c]! > pred[base + best]!) best = c;
      if (best === yi) score++;
      const raw = pred[base + yi]!;
      const p = Math.min(Math.max(raw, EPS), 1 - EPS);
      l = -Math.log(p);
      if (grad) {
        grad.fill(0, base, base + units);
        grad[base + yi] = raw < EPS || raw > 1 - EPS ? 0 : -wi / p;
      }
    }
    total += wi * l;
  }
  return { loss: total, score };
}
