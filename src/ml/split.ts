import { seededRandom, type Random } from '../seeded-random.js';

export { seededRandom, type Random };

/** Fisher–Yates shuffle in place (an array or a typed array). */
export function shuffleInPlace<A extends { [i: number]: unknown; length: number }>(items: A, random: Random): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    // A plain swap: the destructuring form allocates an array per step until the JIT optimizes it (a training epoch's first shuffle).
    const t = items[i];
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** How to split rows. Fractions of all rows; train gets the rest. */
export interface SplitOptions {
  test: number;
  validation: number;
  seed: number;
  /** Shuffle before splitting (and within each split); false keeps file order: train first, test last. */
  shuffle: boolean;
  /** One class per row: each split then holds the classes in the same proportions (± one row per class). */
  strata?: ArrayLike<number>;
}

/** Row indices per split. A split with no rows is an empty array. */
export interface SplitIndices {
  train: number[];
  validation: number[];
  test: number[];
}

/**
 * Splits `n` rows into train/validation/test. Split sizes are `round(n * fraction)`; with strata,
 * each split's rows are shared out over the classes in proportion, by largest remainder, so the
 * totals stay exact and every split keeps the class ratios. The same seed gives the same split.
 */
export function splitRows(n: number, opts: SplitOptions): SplitIndices {
  if (opts.test < 0 || opts.validation < 0 || opts.test + opts.validation >= 1) {
    throw new RangeError(`split fractions test=${opts.test} validation=${opts.validation} must be >= 0 and sum to less than 1`);
  }
  const random = seededRandom(opts.seed);
  const groups = groupRows(n, opts.strata);
  if (opts.shuffle) for (const g of groups) shuffleInPlace(g, random);
  const sizes = groups.map((g) => g.length);
  const nTest = apportion(Math.round(n * opts.test), sizes, n);
  const nVal = apportion(
    Math.round(n * opts.validation),
    sizes.map((s, i) => s - nTest[i]!),
    n - nTest.reduce((a, b) => a + b, 0),
    sizes,
    n,
  );
  const out: SplitIndices = { train: [], validation: [], test: [] };
  groups.forEach((g, i) => {
    const t = g.length - nTest[i]!;
    const v = t - nVal[i]!;
    for (let k = 0; k < g.length; k++) (k < v ? out.train : k < t ? out.validation : out.test).push(g[k]!);
  });
  for (const part of [out.train, out.validation, out.test]) {
    if (opts.shuffle) shuffleInPlace(part, random);
    else part.sort((a, b) => a - b);
  }
  return out;
}

function groupRows(n: number, strata: ArrayLike<number> | undefined): number[][] {
  if (!strata) return [Array.from({ length: n }, (_, i) => i)];
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = strata[i]!;
    let g = byClass.get(k);
    if (!g) byClass.set(k, (g = []));
    g.push(i);
  }
  return [...byClass.keys()].sort((a, b) => a - b).map((k) => byClass.get(k)!);
}

/**
 * Shares `total` rows out over groups with `capacity` rows available each, in proportion to
 * `weights` (default: the capacities), by largest remainder; ties go to the earlier group.
 */
function apportion(total: number, capacity: number[], available: number, weights = capacity, weightSum = available): number[] {
  const want = Math.min(total, available);
  const exact = weights.map((w) => (weightSum ? (want * w) / weightSum : 0));
  const out = exact.map((e, i) => Math.min(Math.floor(e), capacity[i]!));
  let left = want - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => i).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  while (left > 0) {
    let moved = false;
    for (const i of order) {
      if (left === 0) break;
      if (out[i]! < capacity[i]!) {
        out[i]!++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return out;
}

/** Indices of the first occurrence of each distinct key, in order; the rest are duplicates. */
export function dedupeRows(keys: readonly string[]): number[] {
  const seen = new Set<string>();
  const keep: number[] = [];
  keys.forEach((k, i) => {
    if (!seen.has(k)) {
      seen.add(k);
      keep.push(i);
    }
  });
  return keep;
}
