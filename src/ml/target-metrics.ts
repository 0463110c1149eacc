import { classificationMetrics, confusionMatrix, regressionMetrics } from './metrics.js';
import type { TensorPredictions } from './predict.js';

/** One target's scoring inputs: its predictions, true values and labels. */
export interface TargetScore {
  name: string;
  p: TensorPredictions;
  y: Float32Array;
  labels?: string[];
}

/** The metrics of several targets (metrics.json of a multi-target evaluate). */
export interface MultiTargetMetrics {
  /** `<target>_<metric>` for each target, the unprefixed metric averaged over the targets that have it, and `subset_accuracy`. */
  metrics: Record<string, number>;
  /** The confusion matrix of each classification target. */
  matrices: Record<string, number[][]>;
}

/** Column `j` of a row-major matrix with `k` columns. */
export function column(y: Float32Array, j: number, k: number): Float32Array {
  const n = y.length / k;
  return Float32Array.from({ length: n }, (_, i) => y[i * k + j]!);
}

/**
 * Scores each target on its own (classification: accuracy, F1 … as for one target; regression:
 * MSE, R² …), keeps those `pick` lets through under `<target>_<metric>`, and adds the unweighted
 * mean of every metric over the targets that report it under the bare name (scikit-learn's macro
 * average over labels for a multi-label set; `uniform_average` for several regression targets).
 * With two or more classification targets, `subset_accuracy` is the share of rows whose every label
 * is right (scikit-learn's `accuracy_score` on a multi-label indicator matrix).
 */
export function multiTargetMetrics(targets: readonly TargetScore[], pick: (all: Record<string, number>, regression: boolean) => Record<string, number>, options: { topK?: number } = {}): MultiTargetMetrics {
  const metrics: Record<string, number> = {};
  const matrices: Record<string, number[][]> = {};
  const sums = new Map<string, { total: number; count: number }>();
  for (const t of targets) {
    const regression = t.p.values !== undefined;
    const all = regression ? { ...regressionMetrics(t.y, t.p.values!) } : classificationMetrics(t.y, t.p.classes!, t.p.probabilities!, t.labels?.length ?? 2, options);
    for (const [k, v] of Object.entries(pick(all, regression))) {
      metrics[`${t.name}_${k}`] = v;
      const s = sums.get(k) ?? { total: 0, count: 0 };
      if (Number.isFinite(v)) sums.set(k, { total: s.total + v, count: s.count + 1 });
    }
    if (!regression) matrices[t.name] = confusionMatrix(t.y, t.p.classes!, t.labels?.length ?? 2);
  }
  for (const [k, s] of sums) if (s.count > 0) metrics[k] = s.total / s.count;
  const classified = targets.filter((t) => t.p.classes);
  if (classified.length >= 2 && ('accuracy' in metrics || sums.size === 0)) {
    const n = classified[0]!.y.length;
    let exact = 0;
    for (let i = 0; i < n; i++) if (classified.every((t) => t.p.classes![i] === t.y[i])) exact++;
    metrics.subset_accuracy = exact / n;
  }
  return { metrics, matrices };
}
