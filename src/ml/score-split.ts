import type { SplitData } from './dataset.js';
import { DataError } from './errors.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { loadModel } from './model-io.js';
import { predictTensor, type TensorPredictions } from './predict.js';
import type { Tf } from './backend.js';

/** Metrics where a smaller value is better: their "drop" is an increase. */
export const lowerIsBetter: ReadonlySet<string> = new Set(['log_loss', 'mse', 'rmse', 'mae']);

/** How single-target predictions are scored: the class count (classification) and evaluate's top_k. */
export interface ScoreOptions {
  classes: number;
  topK?: number;
}

/** Every metric evaluate reports for single-target predictions `p` of targets `y` (classification or regression). */
export function predictionMetrics(p: TensorPredictions, y: Float32Array, o: ScoreOptions): Record<string, number> {
  return p.values ? { ...regressionMetrics(y, p.values) } : classificationMetrics(y, p.classes!, p.probabilities!, o.classes, { topK: o.topK });
}

/** The predictions and targets of rows `index` only (single-target). */
export function subsetPredictions(p: TensorPredictions, y: Float32Array, index: ArrayLike<number>): { p: TensorPredictions; y: Float32Array } {
  const n = index.length;
  const ys = Float32Array.from({ length: n }, (_, i) => y[index[i]!]!);
  if (p.values) return { p: { n, values: Float32Array.from({ length: n }, (_, i) => p.values![index[i]!]!) }, y: ys };
  const k = p.probabilities!.length / p.n;
  const probabilities = new Float32Array(n * k);
  for (let i = 0; i < n; i++) probabilities.set(p.probabilities!.subarray(index[i]! * k, (index[i]! + 1) * k), i * k);
  return { p: { n, classes: Int32Array.from({ length: n }, (_, i) => p.classes![index[i]!]!), probabilities }, y: ys };
}

/**
 * Scores the model in `dir` on one split: every classification metric (accuracy, f1_macro, log_loss,
 * …) or regression metric (mse, rmse, mae, r2) that evaluate reports, for a single-target model.
 */
export async function scoreModel(tf: Tf, dir: string, data: SplitData, options: { threshold?: number; topK?: number } = {}): Promise<Record<string, number>> {
  const { model, meta } = await loadModel(tf, dir);
  try {
    if (meta.outputs) throw new DataError(`the model in ${dir} predicts ${meta.outputs.length} targets; scoring it against its quantized copy needs a single-target model`, { hint: 'deploy it without quantize' });
    const p = predictTensor(tf, model, meta, data.x, data.xShape, { threshold: options.threshold });
    return predictionMetrics(p, data.y, { classes: (meta.labels ?? []).length, topK: options.topK });
  } finally {
    model.dispose();
  }
}
