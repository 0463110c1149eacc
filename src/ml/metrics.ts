/**
 * Evaluation metrics in plain TypeScript, following scikit-learn's definitions: a zero denominator
 * in precision/recall/F1 gives 0, ROC AUC counts ties as half (the trapezoid rule), log loss clips
 * probabilities to [eps, 1 - eps] and renormalizes each row.
 *
 * Labels are class indices `0..k-1`; `probs` is row-major `n × k` (row i = class probabilities of sample i).
 */
export type Labels = ArrayLike<number>;

export type Average = 'binary' | 'macro' | 'weighted';

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

export interface RegressionMetrics {
  mse: number;
  rmse: number;
  mae: number;
  r2: number;
}

function checkLengths(a: Labels, b: Labels): void {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} labels, ${b.length} predictions`);
  if (a.length === 0) throw new RangeError('no samples to score');
}

export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkLengths(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** `matrix[true][predicted]` counts over `k` classes. */
export function confusionMatrix(yTrue: Labels, yPred: Labels, k: number): number[][] {
  checkLengths(yTrue, yPred);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new RangeError(`label out of range 0..${k - 1}: true ${t}, predicted ${p}`);
    m[t]![p]!++;
  }
  return m;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Per-class precision, recall, F1, support (count of true samples) and the count of predictions of the class. */
export function perClass(yTrue: Labels, yPred: Labels, k: number): (PrecisionRecallF1 & { support: number; predicted: number })[] {
  const m = confusionMatrix(yTrue, yPred, k);
  return m.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = m.reduce((a, r) => a + r[c]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { precision, recall, f1: ratio(2 * tp, support + predicted), support, predicted };
  });
}

/**
 * `binary` scores class `positive` (default 1) only; `macro` averages equally over the classes that
 * occur in `yTrue` or `yPred` (scikit-learn's `unique_labels`: a class absent from both does not
 * count); `weighted` averages by support.
 */
export function precisionRecallF1(yTrue: Labels, yPred: Labels, k: number, average: Average, positive = 1): PrecisionRecallF1 {
  const classes = perClass(yTrue, yPred, k);
  if (average === 'binary') {
    const c = classes[positive];
    if (!c) throw new RangeError(`positive class ${positive} is outside 0..${k - 1}`);
    return { precision: c.precision, recall: c.recall, f1: c.f1 };
  }
  const total = classes.reduce((a, c) => a + c.support, 0);
  const present = classes.filter((c) => c.support + c.predicted > 0).length;
  const weight = (c: { support: number; predicted: number }): number => (average === 'macro' ? (c.support + c.predicted > 0 ? 1 / present : 0) : c.support / total);
  const sum = (key: keyof PrecisionRecallF1): number => classes.reduce((a, c) => a + c[key] * weight(c), 0);
  return { precision: sum('precision'), recall: sum('recall'), f1: sum('f1') };
}

/** Binary ROC AUC of `scores` (higher = more likely class 1); NaN when only one class is present. */
export function rocAuc(yTrue: Labels, scores: Labels): number {
  checkLengths(yTrue, scores);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (yTrue[order[t]!] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Multiclass ROC AUC, one-vs-rest, macro average over classes that have both positives and negatives. */
export function rocAucOvr(yTrue: Labels, probs: Labels, k: number): number {
  if (probs.length !== yTrue.length * k) throw new RangeError(`expected ${yTrue.length * k} probabilities, got ${probs.length}`);
  const aucs: number[] = [];
  for (let c = 0; c < k; c++) {
    const isC = Array.from(yTrue, (y) => (y === c ? 1 : 0));
    const score = Array.from({ length: yTrue.length }, (_, i) => probs[i * k + c]!);
    const auc = rocAuc(isC, score);
    if (!Number.isNaN(auc)) aucs.push(auc);
  }
  return aucs.length === 0 ? NaN : aucs.reduce((a, b) => a + b, 0) / aucs.length;
}

/** Mean negative log-likelihood of the true class (natural log). */
export function logLoss(yTrue: Labels, probs: Labels, k: number, eps = 1e-15): number {
  if (probs.length !== yTrue.length * k) throw new RangeError(`expected ${yTrue.length * k} probabilities, got ${probs.length}`);
  if (yTrue.length === 0) throw new RangeError('no samples to score');
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    let rowSum = 0;
    for (let c = 0; c < k; c++) rowSum += Math.min(Math.max(probs[i * k + c]!, eps), 1 - eps);
    const p = Math.min(Math.max(probs[i * k + yTrue[i]!]!, eps), 1 - eps) / rowSum;
    total -= Math.log(p);
  }
  return total / yTrue.length;
}

export function meanSquaredError(yTrue: Labels, yPred: Labels): number {
  checkLengths(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i]! - yPred[i]!) ** 2;
  return s / yTrue.length;
}

export function meanAbsoluteError(yTrue: Labels, yPred: Labels): number {
  checkLengths(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i]! - yPred[i]!);
  return s / yTrue.length;
}

/** Coefficient of determination; with constant `yTrue`, 1 for a perfect fit and 0 otherwise (scikit-learn's `force_finite`). */
export function r2Score(yTrue: Labels, yPred: Labels): number {
  checkLengths(yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i]!;
  mean /= yTrue.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    ssRes += (yTrue[i]! - yPred[i]!) ** 2;
    ssTot += (yTrue[i]! - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

export function regressionMetrics(yTrue: Labels, yPred: Labels): RegressionMetrics {
  const mse = meanSquaredError(yTrue, yPred);
  return { mse, rmse: Math.sqrt(mse), mae: meanAbsoluteError(yTrue, yPred), r2: r2Score(yTrue, yPred) };
}

/** Mean recall over the classes present in `yTrue` (scikit-learn's balanced_accuracy_score). */
export function balancedAccuracy(yTrue: Labels, yPred: Labels, k: number): number {
  const classes = perClass(yTrue, yPred, k).filter((c) => c.support > 0);
  return classes.reduce((a, c) => a + c.recall, 0) / classes.length;
}

/** Matthews correlation coefficient, multiclass form (scikit-learn's matthews_corrcoef); 0 when undefined. */
export function matthewsCorrcoef(yTrue: Labels, yPred: Labels, k: number): number {
  const m = confusionMatrix(yTrue, yPred, k);
  const s = yTrue.length;
  let correct = 0;
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (let c = 0; c < k; c++) {
    correct += m[c]![c]!;
    const t = m[c]!.reduce((a, b) => a + b, 0);
    const p = m.reduce((a, r) => a + r[c]!, 0);
    pt += p * t;
    pp += p * p;
    tt += t * t;
  }
  const denom = Math.sqrt((s * s - pp) * (s * s - tt));
  return denom === 0 ? 0 : (correct * s - pt) / denom;
}

/** Share of samples whose true class is among the `kTop` most probable (scikit-learn's top_k_accuracy_score; ties counted as hits). */
export function topKAccuracy(yTrue: Labels, probs: Labels, k: number, kTop: number): number {
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const own = probs[i * k + yTrue[i]!]!;
    let above = 0;
    for (let c = 0; c < k; c++) if (probs[i * k + c]! > own) above++;
    if (above < kTop) hits++;
  }
  return hits / yTrue.length;
}

/**
 * Every classification scalar, flattened: accuracy; precision/recall/f1 (binary for two classes,
 * macro otherwise) and their `_macro` and `_weighted` forms; auc (binary, or macro one-vs-rest);
 * log_loss; balanced_accuracy; mcc; top_k_accuracy (multiclass with more than `topK` classes, default 2).
 * `auc` is left out when undefined (a single class in `yTrue`).
 */
export function classificationMetrics(yTrue: Labels, yPred: Labels, probs: Labels, k: number, options: { topK?: number } = {}): Record<string, number> {
  const out: Record<string, number> = { accuracy: accuracy(yTrue, yPred), balanced_accuracy: balancedAccuracy(yTrue, yPred, k), mcc: matthewsCorrcoef(yTrue, yPred, k) };
  const topK = options.topK ?? 2;
  if (topK < k) out.top_k_accuracy = topKAccuracy(yTrue, probs, k, topK);
  for (const average of ['macro', 'weighted'] as const) {
    const r = precisionRecallF1(yTrue, yPred, k, average);
    out[`precision_${average}`] = r.precision;
    out[`recall_${average}`] = r.recall;
    out[`f1_${average}`] = r.f1;
  }
  const main = k === 2 ? precisionRecallF1(yTrue, yPred, k, 'binary') : precisionRecallF1(yTrue, yPred, k, 'macro');
  Object.assign(out, main);
  const auc = k === 2 ? rocAuc(yTrue, Array.from({ length: yTrue.length }, (_, i) => probs[i * 2 + 1]!)) : rocAucOvr(yTrue, probs, k);
  if (!Number.isNaN(auc)) out.auc = auc;
  out.log_loss = logLoss(yTrue, probs, k);
  return out;
}
