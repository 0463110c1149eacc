/**
 * A confusion matrix is run data in the tracker: one final metric point per cell,
 * `confusion_matrix.<actual>.<predicted>` (class indexes), so it travels with the run (to a shared
 * tracker, through a CI cache of the tracker alone) and is restored with a cached stage. Tables and
 * summaries leave these points out; the report and the dashboard draw them as a heatmap.
 */
export const CONFUSION_KEY = /(^|\.)confusion_?matrix\./i;

/** Whether a metric key is (part of) a flattened confusion matrix. */
export function isConfusionKey(key: string): boolean {
  return CONFUSION_KEY.test(key);
}

/** The cells of a k × k matrix as metrics. */
export function confusionCells(matrix: readonly (readonly number[])[]): Record<string, number> {
  const out: Record<string, number> = {};
  matrix.forEach((row, a) => row.forEach((count, p) => (out[`confusion_matrix.${a}.${p}`] = count)));
  return out;
}

/** A metrics record without its confusion-matrix cells. */
export function withoutConfusionCells(metrics: Record<string, number>): Record<string, number> {
  const keys = Object.keys(metrics);
  if (!keys.some(isConfusionKey)) return metrics;
  return Object.fromEntries(keys.filter((k) => !isConfusionKey(k)).map((k) => [k, metrics[k]]));
}
