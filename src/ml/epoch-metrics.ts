import type { OutputKind } from './build-model.js';
import { accuracy, precisionRecallF1, r2Score, rocAuc, rocAucOvr } from './metrics.js';

/** Metrics a train stage may log per epoch besides its loss (Keras `metrics=`), on the train and the validation data. */
export const trainMetricNames = ['accuracy', 'auc', 'precision', 'recall', 'f1', 'mae', 'mse', 'rmse', 'r2'] as const;
export type TrainMetricName = (typeof trainMetricNames)[number];

const classification = new Set<TrainMetricName>(['accuracy', 'auc', 'precision', 'recall', 'f1']);

/** Whether a metric applies to a model with this output. */
export function metricApplies(name: TrainMetricName, kind: OutputKind): boolean {
  return classification.has(name) === (kind !== 'linear');
}

/**
 * The metrics `names` of raw model outputs `pred` (units per row) against labels `y`. Classification:
 * precision/recall/f1 of class 1 for a sigmoid output, macro otherwise; auc one-vs-rest for softmax.
 * Regression values are multiplied by `scale` first, so errors are in the target's units.
 */
export function epochMetrics(names: readonly TrainMetricName[], output: { kind: OutputKind; units: number }, pred: Float32Array, y: Float32Array, scale = 1): Record<string, number> {
  const out: Record<string, number> = {};
  if (names.length === 0 || y.length === 0) return out;
  if (output.kind === 'linear') {
    let abs = 0;
    let sq = 0;
    for (let i = 0; i < y.length; i++) {
      const d = (pred[i]! - y[i]!) * scale;
      abs += Math.abs(d);
      sq += d * d;
    }
    for (const name of names) {
      if (name === 'mae') out.mae = abs / y.length;
      else if (name === 'mse') out.mse = sq / y.length;
      else if (name === 'rmse') out.rmse = Math.sqrt(sq / y.length);
      else if (name === 'r2') out.r2 = r2Score(y, pred);
    }
    return out;
  }
  const k = output.kind === 'sigmoid' ? 2 : output.units;
  const classes = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    if (output.kind === 'sigmoid') classes[i] = pred[i]! >= 0.5 ? 1 : 0;
    else {
      let best = 0;
      for (let c = 1; c < k; c++) if (pred[i * k + c]! > pred[i * k + best]!) best = c;
      classes[i] = best;
    }
  }
  const prf = precisionRecallF1(y, classes, k, k === 2 ? 'binary' : 'macro');
  for (const name of names) {
    if (name === 'accuracy') out.accuracy = accuracy(y, classes);
    else if (name === 'precision' || name === 'recall' || name === 'f1') out[name] = prf[name];
    else if (name === 'auc') {
      const auc = output.kind === 'sigmoid' ? rocAuc(y, pred) : rocAucOvr(y, pred, k);
      if (!Number.isNaN(auc)) out.auc = auc;
    }
  }
  return out;
}
