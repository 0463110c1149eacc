import { UserError } from '../errors.js';
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';
import type { OptimizerHandle, ResolvedModel } from './build-model.js';
import { batchLoss, type BatchTotals } from './losses.js';
import { seededRandom, shuffleInPlace } from './split.js';
import { epochMetrics, type TrainMetricName } from './epoch-metrics.js';
import { didYouMean } from '../schema/did-you-mean.js';

/** Inputs and labels of one split, as stored in a dataset. */
export interface FitData {
  x: Float32Array | Int32Array;
  xShape: number[];
  y: Float32Array;
}

export interface EarlyStopping {
  monitor: string;
  patience: number;
  min_delta: number;
  restore_best_weights: boolean;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: OptimizerHandle;
  /** Weight per class index (classification); absent: every sample weighs 1. */
  classWeights?: number[];
  earlyStopping?: EarlyStopping;
  signal?: AbortSignal;
  /** Regression on a scaled target: the factor that brings the absolute error (`mae`) back to the target's units. */
  scoreScale?: number;
  /** Extra metrics logged per epoch on the train data (over the epoch's batches, as Keras) and as `val_*` on the validation data. */
  metrics?: readonly TrainMetricName[];
}

/** One finished epoch: `loss`, `accuracy` or `mae`, and their `val_` forms when there is validation data. */
export interface EpochLog {
  /** 1-based. */
  epoch: number;
  metrics: Record<string, number>;
  learningRate: number;
  samplesPerSecond: number;
}

export interface FitResult {
  epochsRun: number;
  /** 1-based epoch whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  history: EpochLog[];
  /** The metrics of `bestEpoch`. */
  final: Record<string, number>;
}

/** The loss stopped being a finite number. */
export class TrainingDivergedError extends UserError {
  constructor(
    readonly epoch: number,
    readonly learningRate: number,
  ) {
    super(
      `training diverged: the loss became NaN or infinite in epoch ${epoch} (learning rate ${learningRate})\n` +
        `  hint: lower optimizer.learning_rate (e.g. ${Number((learningRate / 10).toPrecision(3))}), normalize the inputs (preprocess normalize: zscore), or use a smaller batch_size`,
    );
    this.name = 'TrainingDivergedError';
  }
}

/** The early-stopping monitor names a metric that this training does not produce. */
export class UnknownMonitorError extends UserError {
  constructor(monitor: string, available: string[], setting = 'early_stopping.monitor') {
    const hint = didYouMean(monitor, available);
    super(`${setting} "${monitor}" is not computed here; available: ${available.join(', ')}${available.some((a) => a.startsWith('val_')) ? '' : ' (val_* metrics need a validation split or validation_split > 0)'}${hint ? `; ${hint}` : ''}${monitor.startsWith('val_') && !available.includes(monitor) && available.some((a) => a.startsWith('val_')) ? ` (add ${monitor.slice(4)} to the train stage's metrics to log it)` : ''}`);
    this.name = 'UnknownMonitorError';
  }
}


/** A Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, rand: () => number): Int32Array {
  return shuffleInPlace(Int32Array.from({ length: n }, (_, i) => i), rand);
}

/** Rows `idx` of `data`, in that order. */
export function takeRows(data: FitData, idx: ArrayLike<number>): FitData {
  const row = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const x = data.x instanceof Int32Array ? new Int32Array(idx.length * row) : new Float32Array(idx.length * row);
  const y = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    x.set(data.x.subarray(idx[i]! * row, (idx[i]! + 1) * row), i * row);
    y[i] = data.y[idx[i]!]!;
  }
  return { x, xShape: [idx.length, ...data.xShape.slice(1)], y };
}

export function metricNames(resolved: ResolvedModel, withValidation: boolean, extra: readonly string[] = []): string[] {
  const base = resolved.output.kind === 'linear' ? 'mae' : 'accuracy';
  const names = ['loss', base, ...extra.filter((m) => m !== base)];
  return withValidation ? [...names, ...names.map((n) => `val_${n}`)] : names;
}

const lowerIsBetter = (monitor: string): boolean => /loss|mae|mse|error/.test(monitor);

interface Batch {
  x: Tensor;
  y: Float32Array;
  w: Float32Array | null;
}

/**
 * The mean weighted batch loss as one differentiable op computed in JS (`batchLoss`); its totals
 * (loss sum, score) are added to `totals`.
 */
function lossOp(tf: Tf, resolved: ResolvedModel, batch: Batch, totals: BatchTotals, seen?: (pred: ArrayLike<number>) => void): (pred: Tensor) => Scalar {
  return tf.customGrad((...args: unknown[]) => {
    const pred = args[0] as Tensor;
    const values = pred.dataSync();
    seen?.(values);
    const n = batch.y.length;
    const grad = new Float32Array(values.length);
    const t = batchLoss(resolved.lossSpec, resolved.output, values, batch.y, batch.w, grad);
    totals.loss += t.loss;
    totals.score += t.score;
    return {
      value: tf.scalar(t.loss / n),
      gradFunc: (dy: Tensor) => {
        const scale = dy.dataSync()[0]! / n;
        for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
        return [tf.tensor(grad, pred.shape, 'float32')];
      },
    };
  }) as (pred: Tensor) => Scalar;
}

function classWeightsOf(y: Float32Array, classWeights?: number[]): Float32Array | null {
  return classWeights ? Float32Array.from(y, (c) => classWeights[c] ?? 1) : null;
}

function batchOf(tf: Tf, resolved: ResolvedModel, data: FitData, w: Float32Array | null, start: number, size: number): Batch {
  const row = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  return {
    x: tf.tensor(data.x.subarray(start * row, (start + size) * row), [size, ...data.xShape.slice(1)], resolved.inputDtype),
    y: data.y.subarray(start, start + size),
    w: w ? w.subarray(start, start + size) : null,
  };
}

function evaluateSplit(tf: Tf, model: LayersModel, resolved: ResolvedModel, data: FitData, batchSize: number): { loss: number; score: number; pred: Float32Array } {
  const n = data.xShape[0]!;
  const totals = { loss: 0, score: 0 };
  const all = new Float32Array(n * resolved.output.units);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const batch = batchOf(tf, resolved, data, null, start, size);
    const pred = tf.tidy(() => model.apply(batch.x, { training: false }) as Tensor);
    const values = pred.dataSync();
    all.set(values as Float32Array, start * resolved.output.units);
    const t = batchLoss(resolved.lossSpec, resolved.output, values, batch.y, null);
    totals.loss += t.loss;
    totals.score += t.score;
    tf.dispose([pred, batch.x]);
  }
  return { loss: totals.loss / n, score: totals.score / n, pred: all };
}

/**
 * Trains `model` with mini-batch gradient steps. Each epoch visits the training rows in a seeded
 * permutation (the same seed gives the same order, so the same weights on the same backend); the
 * loss is the mean per-sample loss times its class weight, plus layer regularization. Validation
 * metrics are computed after each epoch; early stopping watches `monitor` and may restore the
 * best epoch's weights.
 */
export async function fitModel(
  tf: Tf,
  model: LayersModel,
  resolved: ResolvedModel,
  train: FitData,
  validation: FitData | undefined,
  options: FitOptions,
  onEpoch: (log: EpochLog) => void,
): Promise<FitResult> {
  const extra = (options.metrics ?? []).filter((m) => m !== (resolved.output.kind === 'linear' ? 'mae' : 'accuracy'));
  const names = metricNames(resolved, validation !== undefined, extra);
  const es = options.earlyStopping;
  if (es && !names.includes(es.monitor)) throw new UnknownMonitorError(es.monitor, names);
  const scoreName = names[1]!;
  const rand = seededRandom(options.seed);
  const n = train.xShape[0]!;
  const weights = classWeightsOf(train.y, options.classWeights);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const history: EpochLog[] = [];
  let best: { value: number; epoch: number; weights: Tensor[] | null; metrics: Record<string, number> } | undefined;
  let wait = 0;
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const learningRate = options.optimizer.setEpoch(epoch - 1, options.epochs, history.map((h) => h.metrics));
      const started = performance.now();
      const order = permutation(n, rand);
      const shuffled = takeRows(train, order);
      const shuffledWeights = weights ? Float32Array.from(order, (i) => weights[i]!) : null;
      const totals: BatchTotals = { loss: 0, score: 0 };
      const units = resolved.output.units;
      const epochPred = extra.length > 0 ? new Float32Array(n * units) : undefined;
      for (let start = 0; start < n; start += options.batchSize) {
        if (options.signal?.aborted) throw options.signal.reason ?? new Error('training aborted');
        const size = Math.min(options.batchSize, n - start);
        const batch = batchOf(tf, resolved, shuffled, shuffledWeights, start, size);
        const loss = lossOp(tf, resolved, batch, totals, epochPred && ((values) => epochPred.set(values as Float32Array, start * units)));
        try {
          options.optimizer.optimizer.minimize(
            () => {
              const total = loss(model.apply(batch.x, { training: true }) as Tensor);
              const regularization = model.calculateLosses();
              if (regularization.length === 0) return total;
              const penalty = tf.addN(regularization);
              totals.loss += penalty.dataSync()[0]! * size;
              return tf.add(total, penalty) as Scalar;
            },
            false,
            variables,
          );
        } finally {
          batch.x.dispose();
        }
      }
      const scoreScale = resolved.output.kind === 'linear' ? (options.scoreScale ?? 1) : 1;
      const metrics: Record<string, number> = { loss: totals.loss / n, [scoreName]: (totals.score / n) * scoreScale };
      if (!Number.isFinite(metrics.loss!)) throw new TrainingDivergedError(epoch, learningRate);
      if (epochPred) Object.assign(metrics, epochMetrics(extra, resolved.output, epochPred, shuffled.y, scoreScale));
      if (validation) {
        const v = evaluateSplit(tf, model, resolved, validation, Math.max(options.batchSize, 256));
        metrics.val_loss = v.loss;
        metrics[`val_${scoreName}`] = v.score * scoreScale;
        for (const [k, value] of Object.entries(epochMetrics(extra, resolved.output, v.pred, validation.y, scoreScale))) metrics[`val_${k}`] = value;
      }
      const log = { epoch, metrics, learningRate, samplesPerSecond: n / ((performance.now() - started) / 1000) };
      history.push(log);
      onEpoch(log);
      const value = metrics[es?.monitor ?? 'loss']!;
      const improved = best === undefined || (value !== undefined && (lowerIsBetter(es?.monitor ?? 'loss') ? value < best.value - (es?.min_delta ?? 0) : value > best.value + (es?.min_delta ?? 0)));
      if (improved) {
        if (best?.weights) tf.dispose(best.weights);
        best = { value, epoch, metrics, weights: es?.restore_best_weights ? model.getWeights().map((w) => tf.tensor(w.dataSync().slice(), w.shape, w.dtype)) : null };
        wait = 0;
      } else if (es && ++wait >= es.patience) {
        stoppedEarly = true;
      }
      await new Promise((resolve) => setImmediate(resolve));
      if (stoppedEarly) break;
    }
    const last = history[history.length - 1]!;
    if (best?.weights && best.epoch !== last.epoch) {
      model.setWeights(best.weights);
      return { epochsRun: history.length, bestEpoch: best.epoch, stoppedEarly, history, final: best.metrics };
    }
    return { epochsRun: history.length, bestEpoch: last.epoch, stoppedEarly, history, final: last.metrics };
  } finally {
    if (best?.weights) tf.dispose(best.weights);
  }
}
