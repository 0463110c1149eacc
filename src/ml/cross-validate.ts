import type { Tf } from './backend.js';
import { buildModel, type OptimizerHandle, type ResolvedModel } from './build-model.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import type { ModelMeta } from './model-io.js';
import { predictTensor, type TensorPredictions } from './predict.js';
import { column, multiTargetMetrics } from './target-metrics.js';
import { fitModel, takeRows, type EpochLog, type FitData, type FitOptions } from './train-loop.js';

/** What a model needs to read its own predictions (the parts of ModelMeta that predictTensor uses). */
export type PredictionMeta = Pick<ModelMeta, 'output' | 'inputDtype' | 'targetScale' | 'inputs' | 'outputs'>;

/** One cross-validation run: the rows (targets in model units), their folds, and how each fold's model is trained. */
export interface CrossValidateInput {
  tf: Tf;
  resolved: ResolvedModel;
  /** The train split as the model is fitted on it (a regression target scaled). */
  data: FitData;
  /** The same rows' targets in their own units, to score the held-out predictions. */
  truth: Float32Array;
  /** The 0-based fold of each row of `data`. */
  folds: Int32Array;
  k: number;
  predictionMeta: PredictionMeta;
  /** The labels of each target (classification; `[]` for regression), in target order. */
  labels: string[][];
  seed: number;
  fit: Omit<FitOptions, 'optimizer'>;
  newOptimizer: () => OptimizerHandle;
  onEpoch?: (fold: number, log: EpochLog) => void;
  onFold?: (result: FoldResult) => void;
}

/** One fold's model: trained on the other folds, early-stopped and scored on this one. */
export interface FoldResult {
  /** 1-based. */
  fold: number;
  trainRows: number;
  heldOutRows: number;
  epochsRun: number;
  bestEpoch: number;
  /** The evaluate metrics (accuracy, f1_macro, …; rmse, r2, …) on the held-out fold. */
  metrics: Record<string, number>;
}

/** The metrics of every fold and, per metric, the mean and (population) standard deviation across folds. */
export interface CrossValidation {
  folds: FoldResult[];
  summary: Record<string, { mean: number; std: number }>;
}

/**
 * k-fold cross-validation: for each fold, a fresh model (same seed) is trained on the other folds,
 * with the held-out fold as its validation data (early stopping watches it), then scored on it.
 */
export async function crossValidate(input: CrossValidateInput): Promise<CrossValidation> {
  const { tf, resolved, data, folds, k } = input;
  const results: FoldResult[] = [];
  for (let fold = 0; fold < k; fold++) {
    const inFold: number[] = [];
    const rest: number[] = [];
    folds.forEach((f, i) => (f === fold ? inFold : rest).push(i));
    const train = takeRows(data, rest);
    const heldOut = takeRows(data, inFold);
    const model = buildModel(tf, resolved, input.seed);
    const optimizer = input.newOptimizer();
    try {
      const fit = await fitModel(tf, model, resolved, train, heldOut, { ...input.fit, optimizer }, (log) => input.onEpoch?.(fold + 1, log));
      const p = predictTensor(tf, model, input.predictionMeta, heldOut.x, heldOut.xShape);
      const width = input.truth.length / data.xShape[0]!;
      const truth = new Float32Array(inFold.length * width);
      inFold.forEach((row, i) => truth.set(input.truth.subarray(row * width, (row + 1) * width), i * width));
      const result = { fold: fold + 1, trainRows: rest.length, heldOutRows: inFold.length, epochsRun: fit.epochsRun, bestEpoch: fit.bestEpoch, metrics: scoreFold(p, truth, input.labels) };
      results.push(result);
      input.onFold?.(result);
    } finally {
      model.dispose();
      optimizer.optimizer.dispose();
    }
  }
  return { folds: results, summary: summarize(results.map((r) => r.metrics)) };
}

/** The evaluate stage's metrics of one held-out fold (one target, or each of several and their average). */
export function scoreFold(p: TensorPredictions, y: Float32Array, labels: string[][]): Record<string, number> {
  if (p.outputs) {
    const targets = p.outputs.map((o, j) => ({ name: o.name, p: o, y: column(y, j, p.outputs!.length), ...(labels[j]?.length ? { labels: labels[j] } : {}) }));
    return multiTargetMetrics(targets, (all) => all).metrics;
  }
  if (p.values) return { ...regressionMetrics(y, p.values) };
  return classificationMetrics(y, p.classes!, p.probabilities!, p.probabilities!.length / p.n);
}

/** Per metric present in every fold with a finite value: mean and population std (numpy's `scores.std()`). */
export function summarize(perFold: readonly Record<string, number>[]): Record<string, { mean: number; std: number }> {
  const out: Record<string, { mean: number; std: number }> = {};
  const keys = Object.keys(perFold[0] ?? {}).filter((key) => perFold.every((m) => Number.isFinite(m[key])));
  for (const key of keys.sort()) {
    const values = perFold.map((m) => m[key]!);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    out[key] = { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) };
  }
  return out;
}

/** Stage metrics of a cross-validation: `cv.<metric>.mean`, `cv.<metric>.std`, and `cv.folds`. */
export function cvMetrics(cv: CrossValidation): Record<string, number> {
  const out: Record<string, number> = { 'cv.folds': cv.folds.length };
  for (const [key, { mean, std }] of Object.entries(cv.summary)) {
    out[`cv.${key}.mean`] = mean;
    out[`cv.${key}.std`] = std;
  }
  return out;
}

/** The epochs the refit on all folds trains for when folds stopped early: the mean of their best epochs, rounded (at least 1). */
export function refitEpochs(cv: CrossValidation): number {
  return Math.max(1, Math.round(cv.folds.reduce((a, f) => a + f.bestEpoch, 0) / cv.folds.length));
}
