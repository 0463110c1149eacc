import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadTf, type Tf } from './backend.js';
import type { BackendChoice } from './backend.js';
import { loadModel, type ModelMeta } from './model-io.js';
import { unscaleTarget } from './target-scaling.js';
import { transformRows } from './transform.js';
import { inputTensors, joinOutputs } from './model-inputs.js';
import { explainEncoded } from './explain.js';

/** Raw model outputs for n samples. */
export interface TensorPredictions {
  n: number;
  /** Classification: predicted class index per sample. */
  classes?: Int32Array;
  /** Classification: row-major n × k class probabilities (k ≥ 2, also for a sigmoid output). */
  probabilities?: Float32Array;
  /** Regression: the predicted value per sample. */
  values?: Float32Array;
  /** Several targets: the predictions of each, in target order (the fields above are then absent). */
  outputs?: (TensorPredictions & { name: string })[];
}

/** One scored row. */
export interface Prediction {
  /** Classification: the predicted label and the probability of each label. */
  label?: string;
  probabilities?: Record<string, number>;
  /** Regression: the predicted value. */
  value?: number;
  /** Several targets: the prediction for each, by target name. */
  outputs?: Record<string, Prediction>;
  /** `explain` only: each source feature's occlusion contribution to the predicted class's probability (or the value); see explain.ts. */
  explain?: Record<string, number>;
}

type PredictMeta = Pick<ModelMeta, 'output' | 'inputDtype' | 'targetScale' | 'inputs' | 'outputs'>;

/**
 * Runs `model` on `x` (shaped `xShape`, rows first) in batches and reads the output the way
 * `meta.output` says (a scaled regression target mapped back to its units); a multi-input model
 * takes its inputs' slices of each row, a multi-target model gives `outputs`, one per target.
 */
export function predictTensor(tf: Tf, model: LayersModel, meta: PredictMeta, x: Float32Array | Int32Array, xShape: number[], options: { batchSize?: number; threshold?: number } = {}): TensorPredictions {
  const batchSize = options.batchSize ?? 512;
  const threshold = options.threshold ?? 0.5;
  const n = xShape[0]!;
  const rowSize = xShape.slice(1).reduce((a, b) => a * b, 1);
  const heads = meta.outputs ?? [{ name: '', output: meta.output, targetScale: meta.targetScale }];
  const units = heads.reduce((u, h) => u + h.output.units, 0);
  const layout = { inputShape: xShape.slice(1), inputDtype: meta.inputDtype, ...(meta.inputs ? { inputs: meta.inputs } : {}) };
  const raw = new Float32Array(n * units);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const out = tf.tidy(() => joinOutputs(tf, model.predict(inputTensors(tf, layout, x, rowSize, start, end - start), { batchSize: end - start }) as Tensor | Tensor[]));
    raw.set(out.dataSync() as Float32Array, start * units);
    out.dispose();
  }
  if (!meta.outputs) return readOutput(raw, n, meta.output, meta.targetScale, threshold);
  let offset = 0;
  return {
    n,
    outputs: meta.outputs.map((h) => {
      const u = h.output.units;
      const cols = new Float32Array(n * u);
      for (let i = 0; i < n; i++) for (let c = 0; c < u; c++) cols[i * u + c] = raw[i * units + offset + c]!;
      offset += u;
      return { name: h.name, ...readOutput(cols, n, h.output, h.targetScale, threshold) };
    }),
  };
}

/** Classes and probabilities, or values, of one output's raw values (`units` per row). */
function readOutput(raw: Float32Array, n: number, output: ModelMeta['output'], targetScale: ModelMeta['targetScale'], threshold: number): TensorPredictions {
  const units = output.units;
  if (output.kind === 'linear') return { n, values: targetScale ? unscaleTarget(raw, targetScale) : raw };
  if (output.kind === 'sigmoid') {
    const probabilities = new Float32Array(n * 2);
    const classes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = raw[i]!;
      probabilities[2 * i] = 1 - p;
      probabilities[2 * i + 1] = p;
      classes[i] = p >= threshold ? 1 : 0;
    }
    return { n, classes, probabilities };
  }
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < units; c++) if (raw[i * units + c]! > raw[i * units + best]!) best = c;
    classes[i] = best;
  }
  return { n, classes, probabilities: raw };
}

/** Rows per model call when scoring a table batch (the per-call overhead of the layers API dominates small calls). */
const PREDICT_TABLE_BATCH = 8192;

/** A loaded model that scores raw rows with the training-time preprocessing. */
export interface Predictor {
  meta: ModelMeta;
  backend: string;
  predict(rows: Record<string, unknown>[]): Prediction[];
  /** Like `predict`, each prediction with its per-feature `explain` (one more forward pass per feature); see explain.ts for the models it refuses. */
  explain(rows: Record<string, unknown>[]): Prediction[];
  /** The same for rows of cells in the order of `columns` (as a table is read). */
  predictTable(columns: readonly string[], rows: unknown[][]): Prediction[];
  /** `predictTable`'s model outputs, before they become per-row objects (toPredictions). */
  scoreTable(columns: readonly string[], rows: unknown[][]): TensorPredictions;
  dispose(): void;
}

/** Loads the model folder once (for `serve`); `predict` may then be called many times. `threshold`: binary models predict class 1 at or above it (default 0.5). */
export async function loadPredictor(modelDir: string, options: { backend?: BackendChoice; threshold?: number } = {}): Promise<Predictor> {
  const threshold = options.threshold;
  const loaded = await loadTf(options.backend ?? 'auto');
  const { model, meta } = await loadModel(loaded.tf, modelDir);
  const scoreTable = (columns: readonly string[], rows: unknown[][]): TensorPredictions => {
    const { x, xShape } = transformRows(meta.dataset, rows, columns);
    return predictTensor(loaded.tf, model, meta, x, xShape, { threshold, batchSize: PREDICT_TABLE_BATCH });
  };
  return {
    meta,
    backend: loaded.backend,
    predict(rows) {
      if (rows.length === 0) return [];
      const { x, xShape } = transformRows(meta.dataset, rows);
      return toPredictions(predictTensor(loaded.tf, model, meta, x, xShape, { threshold }), meta);
    },
    explain(rows) {
      if (rows.length === 0) return [];
      const { x, xShape } = transformRows(meta.dataset, rows);
      const r = explainEncoded(meta.dataset, x, xShape, (xs) => predictTensor(loaded.tf, model, meta, xs, xShape, { threshold, batchSize: PREDICT_TABLE_BATCH }));
      const k = r.features.length;
      return toPredictions(r.predictions, meta).map((p, i) => ({ ...p, explain: Object.fromEntries(r.features.map((f, j) => [f, r.contributions[i * k + j]!])) }));
    },
    predictTable: (columns, rows) => (rows.length === 0 ? [] : toPredictions(scoreTable(columns, rows), meta)),
    scoreTable,
    dispose() {
      model.dispose();
    },
  };
}

/** Scores raw rows (objects keyed by column name) with the model in `modelDir`. */
export async function predictRows(modelDir: string, rows: Record<string, unknown>[], options: { backend?: BackendChoice } = {}): Promise<Prediction[]> {
  const predictor = await loadPredictor(modelDir, options);
  try {
    return predictor.predict(rows);
  } finally {
    predictor.dispose();
  }
}

export function toPredictions(p: TensorPredictions, meta: Pick<ModelMeta, 'labels' | 'output' | 'outputs'>): Prediction[] {
  if (p.outputs) {
    const each = p.outputs.map((o, j) => toPredictions(o, { labels: meta.outputs?.[j]?.labels, output: meta.outputs?.[j]?.output ?? meta.output }));
    return Array.from({ length: p.n }, (_, i) => ({ outputs: Object.fromEntries(p.outputs!.map((o, j) => [o.name, each[j]![i]!])) }));
  }
  if (p.values) return Array.from(p.values, (value) => ({ value }));
  const labels = meta.labels ?? [];
  const probs = p.probabilities!;
  const k = probs.length / p.n;
  const names = Array.from({ length: k }, (_, j) => labels[j] ?? String(j));
  const out: Prediction[] = new Array(p.n);
  for (let i = 0; i < p.n; i++) {
    const c = p.classes![i]!;
    const probabilities: Record<string, number> = {};
    for (let j = 0; j < k; j++) probabilities[names[j]!] = probs[i * k + j]!;
    out[i] = { label: labels[c] ?? String(c), probabilities };
  }
  return out;
}
