/** Quantiles of a set of numbers (linear interpolation between the closest ranks), with their mean and count. */
export interface Quantiles {
  n: number;
  mean?: number;
  p10?: number;
  p50?: number;
  p90?: number;
}

/** The value below which a share `q` of `sorted` lies. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function quantiles(values: readonly number[]): Quantiles {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { n: 0 };
  return { n: finite.length, mean: finite.reduce((a, b) => a + b, 0) / finite.length, p10: quantile(finite, 0.1), p50: quantile(finite, 0.5), p90: quantile(finite, 0.9) };
}

/** Each label's share of the counts, in `order` (labels with no count get 0). */
export function classShares(counts: ReadonlyMap<string, number>, order: readonly string[]): Record<string, number> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries(order.map((l) => [l, total === 0 ? 0 : (counts.get(l) ?? 0) / total]));
}

/** Total variation distance between two share tables: half the summed absolute differences (0 the same, 1 disjoint). */
export function shareDistance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let sum = 0;
  for (const k of keys) sum += Math.abs((a[k] ?? 0) - (b[k] ?? 0));
  return sum / 2;
}
