import { findImportance, isImportanceKey } from '../../app/report/importance.js';
import { findSlices, isSliceKey } from '../../app/report/slices.js';
import { splitMetricName } from '../../core/tracker/metric-name.js';
import type { MetricPoint } from '../../core/tracker/types.js';
import type { RunPageResponse } from './api-types.js';

/**
 * A run page's final metrics in groups: the permutation importance and the slice metrics of the
 * stage each is shown for (as tables of their own), and the rest (`metrics`, `stage.key` → value),
 * which leaves out the names those tables show so that they do not flood the metric list.
 */
export function groupRunMetrics(
  points: readonly MetricPoint[],
  metrics: Readonly<Record<string, number>>,
  stages: readonly string[],
): { metrics: Record<string, number> } & Pick<RunPageResponse, 'importance' | 'slices'> {
  const importance = findImportance(points) ?? null;
  const slices = findSlices(points) ?? null;
  const grouped = (name: string) => {
    const parts = splitMetricName(name, stages);
    if (!parts) return false;
    return (parts.stage === importance?.stage && isImportanceKey(parts.key)) || (parts.stage === slices?.stage && isSliceKey(parts.key));
  };
  return { metrics: Object.fromEntries(Object.entries(metrics).filter(([name]) => !grouped(name))), importance, slices };
}
