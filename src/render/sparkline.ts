const BARS = '▁▂▃▄▅▆▇█';

/**
 * A terminal sparkline of `values`, at most `width` characters (evenly resampled when longer),
 * scaled to `[min, max]` (default: the values' own range) so curves of several runs share one scale.
 */
export function sparkline(values: readonly number[], opts: { min?: number; max?: number; width?: number } = {}): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const width = opts.width ?? 16;
  const sampled = finite.length <= width ? finite : Array.from({ length: width }, (_, i) => finite[Math.round((i * (finite.length - 1)) / (width - 1))]);
  const min = opts.min ?? Math.min(...finite);
  const max = opts.max ?? Math.max(...finite);
  const span = max - min;
  return sampled.map((v) => BARS[span > 0 ? Math.min(BARS.length - 1, Math.max(0, Math.round(((v - min) / span) * (BARS.length - 1)))) : 3]).join('');
}
