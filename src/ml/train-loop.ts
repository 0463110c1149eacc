import { UserError } from '../errors.js';
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';
import type { OptimizerHandle, ResolvedModel } from './build-model.js';
import { batchLoss, type BatchTotals } from './losses.js';
import { seededRandom, shuffleInPlace } from './split.js';
import { epochMetrics, metricApplies, type TrainMetricName } from './epoch-metrics.js';
import { inputTensors, joinOutputs } from './model-inputs.js';
import type { LossSpec } from './model-config.js';
import type { OutputKind } from './build-model.js';
import { didYouMean } from '../schema/did-you-mean.js';
import type { SplitRowReader } from './split-reader.js';
import { trainingForward } from './training-forward.js';
import { denseStack, denseStackGradients, gatherRows, heapDenseStep, type HeapDenseStep } from './dense-stack-step.js';

/** Inputs and labels of one split, as stored in a dataset (`y`: one value per sample and target, row-major). */
export interface FitData {
  x: Float32Array | Int32Array;
  xShape: number[];
  y: Float32Array;
}

/** A split whose `x` rows stay in its file and are read a batch at a time (see SplitRowReader); `y` is in memory. */
export interface StreamedFitData {
  rows: SplitRowReader;
  xShape: number[];
  y: Float32Array;
}

/** What training reads: a split in memory, or streamed from its file. Both give the same batches, so the same weights. */
export type TrainData = FitData | StreamedFitData;

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
  /** Several targets: that factor per target (1 for classification). */
  scoreScales?: readonly number[];
  /** Extra metrics logged per epoch on the train data (over the epoch's batches, as Keras) and as `val_*` on the validation data. */
  metrics?: readonly TrainMetricName[];
  /** Several targets: the weight of each target's loss in the summed loss (Keras `loss_weights`); absent: 1 each. */
  lossWeights?: readonly number[];
  /**
   * Told each finished epoch (after `onEpoch`; `final` on the last one, early stopping's included) by
   * a search over trials (`run --search asha`); 'stop' ends training there: the trial is pruned.
   */
  afterEpoch?: (log: EpochLog, final: boolean) => Promise<'continue' | 'stop'>;
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
  /** A search (`afterEpoch`) stopped training after the last epoch of `history`. */
  pruned: boolean;
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

/** Rows `idx` of `data`, in that order (a streamed split: a view of those rows of its file, `y` copied). */
export function takeRows<T extends TrainData>(data: T, idx: ArrayLike<number>): T {
  const y = rowsOfY(data, idx);
  const xShape = [idx.length, ...data.xShape.slice(1)];
  if ('rows' in data) return { rows: data.rows.subset(idx), xShape, y } as T;
  return { x: rowsAt(data, idx), xShape, y } as T;
}

/** The `y` values of rows `idx` (one per target). */
function rowsOfY(data: TrainData, idx: ArrayLike<number>): Float32Array {
  const n = data.xShape[0]!;
  const k = n === 0 ? 1 : data.y.length / n;
  const y = new Float32Array(idx.length * k);
  for (let i = 0; i < idx.length; i++) {
    if (k === 1) y[i] = data.y[idx[i]!]!;
    else y.set(data.y.subarray(idx[i]! * k, (idx[i]! + 1) * k), i * k);
  }
  return y;
}

/** The `x` of rows `idx` of `data`, in that order, row-major: copied from memory or read from the split file. */
export function rowsAt(data: TrainData, idx: ArrayLike<number>): Float32Array | Int32Array {
  if ('rows' in data) return data.rows.read(idx);
  const row = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const x = data.x instanceof Int32Array ? new Int32Array(idx.length * row) : new Float32Array(idx.length * row);
  const src = data.x;
  // Short rows (tabular features) by a plain loop: subarray + set makes a view object per row.
  if (row <= 64) for (let i = 0, d = 0; i < idx.length; i++) for (let s = idx[i]! * row, end = s + row; s < end; s++, d++) x[d] = src[s]!;
  else for (let i = 0; i < idx.length; i++) x.set(src.subarray(idx[i]! * row, (idx[i]! + 1) * row), i * row);
  return x;
}

/** The `x` of rows `start … start + size` (a view of memory, or read from the file). */
function rowRange(data: TrainData, start: number, size: number): Float32Array | Int32Array {
  if ('rows' in data) return data.rows.range(start, size);
  const row = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  return data.x.subarray(start * row, (start + size) * row);
}

/** One output of the model as the loop sees it: its columns in the (joined) output, its column of `y`, and the prefix of its metric names (`toxic_` with several targets, none with one). */
export interface Head {
  prefix: string;
  output: { kind: OutputKind; units: number };
  lossSpec: LossSpec;
  /** First column in the joined model output. */
  offset: number;
  /** Its column in `y`. */
  column: number;
  /** The factor of its loss in the summed loss (`loss_weights`). */
  weight: number;
}

export function headsOf(resolved: ResolvedModel, lossWeights?: readonly number[]): Head[] {
  if (!resolved.heads) return [{ prefix: '', output: resolved.output, lossSpec: resolved.lossSpec, offset: 0, column: 0, weight: 1 }];
  let offset = 0;
  return resolved.heads.map((h, column) => {
    const head = { prefix: `${h.name}_`, output: h.output, lossSpec: h.lossSpec, offset, column, weight: lossWeights?.[column] ?? 1 };
    offset += h.output.units;
    return head;
  });
}

const baseMetric = (h: Head): string => (h.output.kind === 'linear' ? 'mae' : 'accuracy');

export function metricNames(resolved: ResolvedModel, withValidation: boolean, extra: readonly TrainMetricName[] = []): string[] {
  const names = ['loss'];
  for (const h of headsOf(resolved)) {
    const base = baseMetric(h);
    names.push(h.prefix + base, ...extra.filter((m) => m !== base && metricApplies(m, h.output.kind)).map((m) => h.prefix + m));
  }
  return withValidation ? [...names, ...names.map((n) => `val_${n}`)] : names;
}

/** The columns of head `h` in the joined outputs `pred` (`units` per row in all), and its column of `y` (`k` values per row). */
function headColumns(h: Head, pred: ArrayLike<number>, units: number, y: ArrayLike<number>, k: number): { pred: Float32Array; y: Float32Array } {
  const n = y.length / k;
  const u = h.output.units;
  const p = new Float32Array(n * u);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < u; c++) p[i * u + c] = pred[i * units + h.offset + c]!;
    t[i] = y[i * k + h.column]!;
  }
  return { pred: p, y: t };
}

/** The summed loss of every head over a batch (each times its weight), each head's score, and (when `grad` is given) ∂loss/∂pred of the joined outputs. */
function headsLoss(heads: readonly Head[], pred: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number> | null, grad?: Float32Array): { loss: number; scores: number[] } {
  if (heads.length === 1) {
    const t = batchLoss(heads[0]!.lossSpec, heads[0]!.output, pred, y, w, grad);
    return { loss: t.loss, scores: [t.score] };
  }
  const units = heads.reduce((u, h) => u + h.output.units, 0);
  let loss = 0;
  const scores = heads.map((h) => {
    const cols = headColumns(h, pred, units, y, heads.length);
    const g = grad ? new Float32Array(cols.pred.length) : undefined;
    const t = batchLoss(h.lossSpec, h.output, cols.pred, cols.y, w, g);
    loss += h.weight * t.loss;
    if (g) {
      const u = h.output.units;
      for (let i = 0; i < cols.y.length; i++) for (let c = 0; c < u; c++) grad![i * units + h.offset + c] = h.weight * g[i * u + c]!;
    }
    return t.score;
  });
  return { loss, scores };
}

/** Per-epoch metrics of the joined outputs `pred` against `y`: each head's `extra` metrics that apply to it, prefixed with the head's name. */
function headsMetrics(heads: readonly Head[], extra: readonly TrainMetricName[], pred: Float32Array, y: Float32Array, scales: readonly number[]): Record<string, number> {
  if (heads.length === 1) return epochMetrics(extra, heads[0]!.output, pred, y, scales[0]);
  const units = heads.reduce((u, h) => u + h.output.units, 0);
  const out: Record<string, number> = {};
  heads.forEach((h, j) => {
    const names = extra.filter((m) => m !== baseMetric(h) && metricApplies(m, h.output.kind));
    if (names.length === 0) return;
    const cols = headColumns(h, pred, units, y, heads.length);
    for (const [k, v] of Object.entries(epochMetrics(names, h.output, cols.pred, cols.y, scales[j]))) out[h.prefix + k] = v;
  });
  return out;
}

const lowerIsBetter = (monitor: string): boolean => /loss|mae|mse|error/.test(monitor);

interface Batch {
  x: Tensor | Tensor[];
  y: Float32Array;
  w: Float32Array | null;
}

interface Totals {
  loss: number;
  scores: number[];
}

/**
 * The batch's loss on the model's output values `values` (`n` rows): its totals (loss sum, score)
 * are added to `totals`; returns ∂(loss sum)/∂output (multiply by 1/n for the mean loss's).
 */
function batchGradient(heads: readonly Head[], batch: Batch, totals: Totals, values: ArrayLike<number>, seen?: (pred: ArrayLike<number>) => void): { loss: number; grad: Float32Array } {
  seen?.(values);
  const grad = new Float32Array(values.length);
  const t = headsLoss(heads, values, batch.y, batch.w, grad);
  totals.loss += t.loss;
  t.scores.forEach((v, j) => (totals.scores[j]! += v));
  return { loss: t.loss, grad };
}

/**
 * The mean weighted batch loss as one differentiable op computed in JS (`batchLoss`); its totals
 * (loss sum, score) are added to `totals`.
 */
function lossOp(tf: Tf, heads: readonly Head[], batch: Batch, totals: Totals, seen?: (pred: ArrayLike<number>) => void): (pred: Tensor) => Scalar {
  return tf.customGrad((...args: unknown[]) => {
    const pred = args[0] as Tensor;
    const n = pred.shape[0]!;
    const { loss, grad } = batchGradient(heads, batch, totals, pred.dataSync(), seen);
    return {
      value: tf.scalar(loss / n),
      gradFunc: (dy: Tensor) => {
        const scale = dy.dataSync()[0]! / n;
        for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
        return [tf.tensor(grad, pred.shape, 'float32')];
      },
    };
  }) as (pred: Tensor) => Scalar;
}

/**
 * One optimizer step on a dense stack (see `denseStack`), with the gradients the tape would give
 * `lossOp`'s mean loss (∂loss/∂output scaled by 1/n the same way), applied in the variables' order.
 */
function denseStackStep(tf: Tf, stack: NonNullable<ReturnType<typeof denseStack>>, variables: readonly Variable[], optimizer: OptimizerHandle, heads: readonly Head[], batch: Batch, totals: Totals, seen?: (pred: ArrayLike<number>) => void): void {
  const x = batch.x as Tensor;
  const n = x.shape[0]!;
  const grads = denseStackGradients(tf, stack, x, (values) => {
    const { grad } = batchGradient(heads, batch, totals, values, seen);
    const scale = 1 / n;
    for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
    return grad;
  });
  try {
    optimizer.optimizer.applyGradients(Object.fromEntries(variables.map((v) => [v.name, grads[v.name]!])));
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/** One batch through `heapDenseStep` (same loss gradient as `denseStackStep`); false when it did not run (take the tf path). */
function heapStepBatch(step: HeapDenseStep, heads: readonly Head[], train: TrainData, rows: Int32Array, y: Float32Array, w: Float32Array | null, totals: Totals, seen?: (pred: ArrayLike<number>) => void): boolean {
  const size = rows.length;
  const batch = { x: [], y, w } as Batch;
  return step.step(
    size,
    (dst) => {
      if ('rows' in train) {
        dst.set(rowsAt(train, rows));
        return;
      }
      gatherRows(train.x, rows, train.xShape.slice(1).reduce((a, b) => a * b, 1), dst);
    },
    (values) => {
      const { grad } = batchGradient(heads, batch, totals, values, seen);
      const scale = 1 / size;
      for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
      return grad;
    },
  );
}

function classWeightsOf(y: Float32Array, classWeights?: number[]): Float32Array | null {
  return classWeights ? Float32Array.from(y, (c) => classWeights[c] ?? 1) : null;
}

/** A batch of `size` rows: their `x` (row-major), `y` and weights `w`, in batch order. */
function batchOf(tf: Tf, resolved: ResolvedModel, x: Float32Array | Int32Array, size: number, y: Float32Array, w: Float32Array | null): Batch {
  return { x: inputTensors(tf, resolved, x, x.length / Math.max(1, size), 0, size), y, w };
}

function evaluateSplit(tf: Tf, model: LayersModel, resolved: ResolvedModel, heads: readonly Head[], data: TrainData, batchSize: number): { loss: number; scores: number[]; pred: Float32Array } {
  const n = data.xShape[0]!;
  const units = heads.reduce((u, h) => u + h.output.units, 0);
  let loss = 0;
  const scores = heads.map(() => 0);
  const all = new Float32Array(n * units);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const batch = batchOf(tf, resolved, rowRange(data, start, size), size, data.y.subarray(start * heads.length, (start + size) * heads.length), null);
    const pred = tf.tidy(() => joinOutputs(tf, model.apply(batch.x, { training: false }) as Tensor | Tensor[]));
    const values = pred.dataSync();
    all.set(values as Float32Array, start * units);
    const t = headsLoss(heads, values, batch.y, null);
    loss += t.loss;
    t.scores.forEach((v, j) => (scores[j]! += v));
    tf.dispose([pred, batch.x].flat());
  }
  return { loss: loss / n, scores: scores.map((v) => v / n), pred: all };
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
  train: TrainData,
  validation: TrainData | undefined,
  options: FitOptions,
  onEpoch: (log: EpochLog) => void,
): Promise<FitResult> {
  const heads = headsOf(resolved, options.lossWeights);
  const k = heads.length;
  const extra = (options.metrics ?? []).filter((m) => heads.some((h) => m !== baseMetric(h)));
  const names = metricNames(resolved, validation !== undefined, extra);
  const es = options.earlyStopping;
  if (es && !names.includes(es.monitor)) throw new UnknownMonitorError(es.monitor, names);
  const scales = heads.map((h, j) => (h.output.kind === 'linear' ? (options.scoreScales?.[j] ?? (k === 1 ? options.scoreScale : undefined) ?? 1) : 1));
  const units = heads.reduce((u, h) => u + h.output.units, 0);
  const rand = seededRandom(options.seed);
  const n = train.xShape[0]!;
  if (options.classWeights && k > 1) throw new RangeError('class weights apply to a model with one target');
  const weights = classWeightsOf(train.y, options.classWeights);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const forward = trainingForward(tf, model);
  const stack = heads.length === 1 && !resolved.inputs ? denseStack(tf, model, variables) : undefined;
  // The whole step on the wasm heap (no tfjs op per batch) where it applies: float inputs, Adam on wasm.
  const heapStep = stack && !(('x' in train) && train.x instanceof Int32Array) ? heapDenseStep(tf, stack, options.optimizer.optimizer) : undefined;
  const history: EpochLog[] = [];
  let best: { value: number; epoch: number; weights: Tensor[] | null; metrics: Record<string, number> } | undefined;
  let wait = 0;
  let stoppedEarly = false;
  let pruned = false;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const learningRate = options.optimizer.setEpoch(epoch - 1, options.epochs, history.map((h) => h.metrics));
      const started = performance.now();
      const order = permutation(n, rand);
      const shuffledY = rowsOfY(train, order);
      const shuffledWeights = weights ? Float32Array.from(order, (i) => weights[i]!) : null;
      const totals: Totals = { loss: 0, scores: heads.map(() => 0) };
      const epochPred = extra.length > 0 ? new Float32Array(n * units) : undefined;
      for (let start = 0; start < n; start += options.batchSize) {
        if (options.signal?.aborted) throw options.signal.reason ?? new Error('training aborted');
        const size = Math.min(options.batchSize, n - start);
        const rows = order.subarray(start, start + size);
        const seen = epochPred && ((values: ArrayLike<number>) => epochPred.set(values as Float32Array, start * units));
        const y = shuffledY.subarray(start * k, (start + size) * k);
        const w = shuffledWeights ? shuffledWeights.subarray(start, start + size) : null;
        if (heapStep && heapStepBatch(heapStep, heads, train, rows, y, w, totals, seen)) continue;
        heapStep?.sync();
        const batch = batchOf(tf, resolved, rowsAt(train, rows), size, y, w);
        const loss = lossOp(tf, heads, batch, totals, seen);
        try {
          if (stack) denseStackStep(tf, stack, variables, options.optimizer, heads, batch, totals, seen);
          else options.optimizer.optimizer.minimize(
            () => {
              const total = loss(joinOutputs(tf, forward(batch.x)));
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
          tf.dispose(batch.x);
        }
      }
      heapStep?.sync();
      const metrics: Record<string, number> = { loss: totals.loss / n };
      heads.forEach((h, j) => (metrics[h.prefix + baseMetric(h)] = (totals.scores[j]! / n) * scales[j]!));
      if (!Number.isFinite(metrics.loss!)) throw new TrainingDivergedError(epoch, learningRate);
      if (epochPred) Object.assign(metrics, headsMetrics(heads, extra, epochPred, shuffledY, scales));
      if (validation) {
        const v = evaluateSplit(tf, model, resolved, heads, validation, Math.max(options.batchSize, 256));
        metrics.val_loss = v.loss;
        heads.forEach((h, j) => (metrics[`val_${h.prefix}${baseMetric(h)}`] = v.scores[j]! * scales[j]!));
        for (const [key, value] of Object.entries(headsMetrics(heads, extra, v.pred, validation.y, scales))) metrics[`val_${key}`] = value;
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
      const final = stoppedEarly || epoch === options.epochs;
      if (options.afterEpoch && (await options.afterEpoch(log, final)) === 'stop' && !final) pruned = true;
      if (stoppedEarly || pruned) break;
    }
    const last = history[history.length - 1]!;
    if (best?.weights && best.epoch !== last.epoch) {
      model.setWeights(best.weights);
      return { epochsRun: history.length, bestEpoch: best.epoch, stoppedEarly, pruned, history, final: best.metrics };
    }
    return { epochsRun: history.length, bestEpoch: last.epoch, stoppedEarly, pruned, history, final: last.metrics };
  } finally {
    heapStep?.dispose();
    if (best?.weights) tf.dispose(best.weights);
  }
}
