/** `1.2s`, `340ms`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}

export function shortRunId(id: string): string {
  return id.slice(0, 8);
}

/** A few headline metrics, e.g. `accuracy 0.933 f1 0.92`. */
export function formatMetrics(metrics: Record<string, number>, max = 4): string {
  return Object.entries(metrics)
    .slice(0, max)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(' ');
}
