import { seededRandom, type Random } from '../seeded-random.js';
import { featureColumnNames } from './columns.js';
import type { DatasetMeta } from './dataset.js';

/** One input feature as the model sees it: the offsets, within a row, of the values it became (a one-hot column's categories, a text's tokens). */
export interface FeatureGroup {
  name: string;
  offsets: number[];
}

/** The importance of one feature: the metric's drop when the feature's values are shuffled between rows, per repeat, and their mean and (population) std. */
export interface FeatureImportance {
  name: string;
  mean: number;
  std: number;
  drops: number[];
}

export interface ImportanceOptions {
  repeats: number;
  seed: number;
  /** The metric improves downwards (log_loss, mse…): a drop is then an increase. */
  lowerIsBetter?: boolean;
}

/**
 * The model's inputs grouped back into the dataset's source columns, in row order: each tabular
 * feature (all of a one-hot column's categories, all parts of a date), each text column (its
 * whole token sequence), or the image.
 */
export function featureGroups(meta: DatasetMeta, rowWidth: number): FeatureGroup[] {
  const span = (from: number, width: number) => Array.from({ length: width }, (_, i) => from + i);
  if (meta.inputKind === 'image') return [{ name: meta.image?.column ?? 'image', offsets: span(0, rowWidth) }];
  if (meta.inputKind === 'text') return [{ name: meta.text!.column, offsets: span(0, rowWidth) }];
  const tabular = (from: number) => {
    let at = from;
    return meta.features.map((fm) => {
      const width = featureColumnNames(fm).length;
      const group = { name: fm.name, offsets: span(at, width) };
      at += width;
      return group;
    });
  };
  if (meta.inputKind === 'tabular') return tabular(0);
  const out: FeatureGroup[] = [];
  let at = 0;
  for (const block of meta.inputs ?? []) {
    if (block.kind === 'tabular') out.push(...tabular(at));
    else out.push({ name: block.name, offsets: span(at, block.width) });
    at += block.width;
  }
  return out;
}

/**
 * Permutation feature importance (Breiman; scikit-learn's permutation_importance): for each
 * feature and repeat, the rows' values of that feature (all its offsets together) are shuffled
 * with a seeded permutation and the copy scored; the drop is the baseline score minus that score
 * (the other way round for a lower-is-better metric). `score(x)` scores `n` rows of `width` values.
 * The same seed gives the same permutations, so the same figures for the same model.
 */
export function permutationImportance(
  x: Float32Array | Int32Array,
  n: number,
  width: number,
  groups: readonly FeatureGroup[],
  score: (x: Float32Array | Int32Array) => number,
  o: ImportanceOptions,
): { baseline: number; features: FeatureImportance[] } {
  const baseline = score(x);
  const random = seededRandom(o.seed ^ 0x5bd1e995);
  const copy = x.slice();
  const features = groups.map((g) => {
    const drops: number[] = [];
    for (let r = 0; r < o.repeats; r++) {
      const order = permutation(n, random);
      for (let i = 0; i < n; i++) for (const c of g.offsets) copy[i * width + c] = x[order[i]! * width + c]!;
      const s = score(copy);
      drops.push(o.lowerIsBetter ? s - baseline : baseline - s);
    }
    for (let i = 0; i < n; i++) for (const c of g.offsets) copy[i * width + c] = x[i * width + c]!;
    const mean = drops.reduce((a, b) => a + b, 0) / drops.length;
    const std = Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / drops.length);
    return { name: g.name, mean, std, drops };
  });
  return { baseline, features };
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
function permutation(n: number, random: Random): Int32Array {
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
