import type { SplitData } from './dataset.js';
import { DataError } from './errors.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { loadModel } from './model-io.js';
import { predictTensor } from './predict.js';
import type { Tf } from './backend.js';

/** Metrics where a smaller value is better: their "drop" is an increase. */
export const lowerIsBetter: ReadonlySet<string> = new Set(['log_loss', 'mse', 'rmse', 'mae']);

/**
 * Scores the model in `dir` on one split: every classification metric (accuracy, f1_macro, log_loss,
 * …) or regression metric (mse, rmse, mae, r2) that evaluate reports, for a single-target model.
 */
export async function scoreModel(tf: Tf, dir: string, data: SplitData, options: { threshold?: number; topK?: number } = {}): Promise<Record<string, number>> {
  const { model, meta } = await loadModel(tf, dir);
  try {
    if (meta.outputs) throw new DataError(`the model in ${dir} predicts ${meta.outputs.length} targets; scoring it against its quantized copy needs a single-target model`, { hint: 'deploy it without quantize' });
    const p = predictTensor(tf, model, meta, data.x, data.xShape, { threshold: options.threshold });
    return p.values ? { ...regressionMetrics(data.y, p.values) } : classificationMetrics(data.y, p.classes!, p.probabilities!, (meta.labels ?? []).length, { topK: options.topK });
  } finally {
    model.dispose();
  }
}
