// Short labels for a run in one-line output: its id prefix and its headline metrics.

import { formatCell } from './numbers.js';

export function shortRunId(id: string): string {
  return id.slice(0, 8);
}

/** A few headline metrics, e.g. `accuracy 0.9333 f1 0.92`. */
export function formatMetrics(metrics: Record<string, number>, max = 4): string {
  return Object.entries(metrics)
    .slice(0, max)
    .map(([k, v]) => `${k} ${formatCell(v)}`)
    .join(' ');
}
