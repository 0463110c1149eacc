import type { OutputKind } from './build-model.js';
import { lossSpecOf, type LossName, type LossSpec } from './model-config.js';

const EPS = 1e-7;

/** Totals over a batch: the weighted loss sum, and the correct count (classification) or absolute-error sum (regression). */
export interface BatchTotals {
  loss: number;
  score: number;
}

const clip = (p: number): number => Math.min(Math.max(p, EPS), 1 - EPS);

/**
 * Loss of a batch of model outputs `pred` (row-major, `units` per sample) against labels `y` (class
 * index, or value), with optional per-sample weights: the sum of w·loss over samples. When `grad`
 * is given it receives ∂(sum)/∂pred. Probabilities are clipped to [1e-7, 1 − 1e-7] (no gradient
 * where clipped), as Keras does. Label smoothing turns class k into the soft target
 * (1 − s)·onehot + s/classes (binary: s/2). Plain JS: one pass instead of a dozen tensor ops and their gradients.
 *
 * - sigmoid: binary cross-entropy, focal (Keras BinaryFocalCrossentropy: (1 − p_t)^γ · bce, α-balanced
 *   when alpha is set), kl_divergence over the two classes.
 * - softmax: cross-entropy (sparse or categorical: the labels are class indices either way), focal
 *   (Σ −t·(1 − p)^γ·log p), kl_divergence (Σ t·log(t / p)).
 * - linear: mse, mae, huber (delta), mape (100 · |y − p| / max(|y|, 1e-7)).
 */
export function batchLoss(
  lossConfig: LossSpec | LossName,
  output: { kind: OutputKind; units: number },
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  w: ArrayLike<number> | null,
  grad?: Float32Array,
): BatchTotals {
  const loss = typeof lossConfig === 'string' ? lossSpecOf(lossConfig) : lossConfig;
  const n = y.length;
  const units = output.units;
  const s = loss.label_smoothing;
  const focal = loss.name === 'focal';
  const kld = loss.name === 'kl_divergence';
  const gamma = loss.gamma;
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
      if (loss.name === 'mean_absolute_error') {
        l = e;
        if (grad) grad[i] = wi * Math.sign(d);
      } else if (loss.name === 'mean_absolute_percentage_error') {
        const denom = Math.max(Math.abs(yi), EPS);
        l = (100 * e) / denom;
        if (grad) grad[i] = (wi * 100 * Math.sign(d)) / denom;
      } else if (loss.name === 'huber') {
        const delta = loss.delta;
        l = e <= delta ? 0.5 * d * d : delta * (e - 0.5 * delta);
        if (grad) grad[i] = wi * (e <= delta ? d : delta * Math.sign(d));
      } else {
        l = d * d;
        if (grad) grad[i] = wi * 2 * d;
      }
    } else if (output.kind === 'sigmoid') {
      const raw = pred[i]!;
      const p = clip(raw);
      if ((raw >= 0.5 ? 1 : 0) === yi) score++;
      const t = yi * (1 - s) + 0.5 * s;
      const bce = -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
      let g = (p - t) / (p * (1 - p));
      if (focal) {
        const pt = t * p + (1 - t) * (1 - p);
        const factor = (1 - pt) ** gamma;
        const dFactor = gamma === 0 ? 0 : -gamma * (1 - pt) ** (gamma - 1) * (2 * t - 1);
        const balance = loss.alpha === undefined ? 1 : t * loss.alpha + (1 - t) * (1 - loss.alpha);
        l = balance * factor * bce;
        g = balance * (dFactor * bce + factor * g);
      } else if (kld) {
        l = (t > 0 ? t * Math.log(t / p) : 0) + (t < 1 ? (1 - t) * Math.log((1 - t) / (1 - p)) : 0);
      } else l = bce;
      if (grad) grad[i] = raw < EPS || raw > 1 - EPS ? 0 : wi * g;
    } else {
      const base = i * units;
      let best = 0;
      for (let c = 1; c < units; c++) if (pred[base + c]! > pred[base + best]!) best = c;
      if (best === yi) score++;
      l = 0;
      for (let c = 0; c < units; c++) {
        const t = (c === yi ? 1 - s : 0) + s / units;
        const raw = pred[base + c]!;
        const p = clip(raw);
        let g = 0;
        if (t > 0) {
          if (focal) {
            const factor = (1 - p) ** gamma;
            l -= t * factor * Math.log(p);
            g = t * ((gamma === 0 ? 0 : gamma * (1 - p) ** (gamma - 1) * Math.log(p)) - factor / p);
          } else {
            l += kld ? t * Math.log(t / p) : -t * Math.log(p);
            g = -t / p;
          }
        }
        if (grad) grad[base + c] = raw < EPS || raw > 1 - EPS ? 0 : wi * g;
      }
    }
    total += wi * l;
  }
  return { loss: total, score };
}
