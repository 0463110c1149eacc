import type { DatasetMeta, FeatureMeta } from './dataset.js';
import { featureWidth, scaleValue } from './columns.js';
import { featureGroups, type FeatureGroup } from './permutation-importance.js';
import type { ModelMeta } from './model-io.js';

/** The part of predict.ts's ScoredRows an explanation reads. */
export interface ScoredRows {
  n: number;
  classes?: Int32Array;
  probabilities?: Float32Array;
  values?: Float32Array;
}

/**
 * Per-row explanations by occlusion: for each source feature (a one-hot column's categories, a
 * date's parts, a text block's tokens folded together), the rows are scored once more with that
 * feature set to its training baseline, and the feature's contribution is
 * prediction(row) − prediction(row with the feature at its baseline), where the prediction is the
 * probability of the class predicted for the unchanged row (classifiers) or the predicted value
 * (regression). Costs one forward pass per feature plus one, each over the whole batch.
 */
export interface RowExplanations<P extends ScoredRows = ScoredRows> {
  /** The predictions of the unchanged rows. */
  predictions: P;
  /** The source features, in model input order. */
  features: string[];
  /** Row-major n × features contributions. */
  contributions: Float64Array;
}

/** Why `meta`'s model cannot be explained per row, or undefined when it can. */
export function explainUnsupported(meta: Pick<ModelMeta, 'outputs' | 'dataset'>): string | undefined {
  if (meta.outputs || (meta.dataset.targets?.length ?? 0) > 1) return 'multi-target models';
  if (meta.dataset.inputKind === 'text') return 'text-only models (the text is their one feature)';
  if (meta.dataset.inputKind === 'image') return 'image models (the image is their one feature)';
  return undefined;
}

/** The source features an explanation of `meta`'s rows has, in model input order. */
export function explainedFeatures(meta: DatasetMeta): string[] {
  return featureGroups(meta, 0).map((g) => g.name);
}

/**
 * The encoded value a feature takes at its baseline: a numeric (or array, or date part) its train
 * mean after the feature's normalization; a categorical the encoding of an unknown category (one-hot
 * all zeros, ordinal -1); a text block all padding (an empty text).
 */
export function baselineRow(meta: DatasetMeta, width: number): Float32Array {
  const out = new Float32Array(width);
  const tabular = (from: number) => {
    let at = from;
    for (const fm of meta.features) {
      out.set(featureBaseline(fm), at);
      at += featureWidth(fm);
    }
  };
  if (meta.inputKind === 'tabular') tabular(0);
  else if (meta.inputKind === 'multi') {
    let at = 0;
    for (const block of meta.inputs ?? []) {
      if (block.kind === 'tabular') tabular(at);
      at += block.width;
    }
  }
  return out;
}

function featureBaseline(fm: FeatureMeta): number[] {
  const width = featureWidth(fm);
  if (fm.type === 'categorical') return Array.from({ length: width }, () => (fm.encoding === 'ordinal' ? -1 : 0));
  if (fm.type === 'date') return fm.partStats!.map((st) => scaleValue(st.mean, st, fm.encoding));
  const st = fm.stats!;
  return Array.from({ length: width }, () => scaleValue(st.mean, st, fm.encoding));
}

/** What is explained of row `i`: the predicted class's probability, or the predicted value. */
function explained(p: ScoredRows, classes: Int32Array | undefined, i: number): number {
  if (p.values) return p.values[i]!;
  const k = p.probabilities!.length / p.n;
  return p.probabilities![i * k + classes![i]!]!;
}

/**
 * Occlusion contributions of `n` rows of `x` (`width` values each), feature by feature (see
 * {@link RowExplanations}); `forward` scores a copy of the rows. `x` is left unchanged.
 */
export function occlusion<P extends ScoredRows>(
  x: Float32Array | Int32Array,
  n: number,
  width: number,
  groups: readonly FeatureGroup[],
  baseline: Float32Array,
  forward: (x: Float32Array | Int32Array) => P,
): RowExplanations<P> {
  const predictions = forward(x);
  const classes = predictions.classes;
  const contributions = new Float64Array(n * groups.length);
  const copy = x.slice();
  groups.forEach((g, f) => {
    for (let i = 0; i < n; i++) for (const c of g.offsets) copy[i * width + c] = baseline[c]!;
    const occluded = forward(copy);
    for (let i = 0; i < n; i++) contributions[i * groups.length + f] = explained(predictions, classes, i) - explained(occluded, classes, i);
    for (let i = 0; i < n; i++) for (const c of g.offsets) copy[i * width + c] = x[i * width + c]!;
  });
  return { predictions, features: groups.map((g) => g.name), contributions };
}

/** {@link occlusion} with the dataset's own feature groups and baselines. */
export function explainEncoded<P extends ScoredRows>(meta: DatasetMeta, x: Float32Array | Int32Array, xShape: number[], forward: (x: Float32Array | Int32Array) => P): RowExplanations<P> {
  const n = xShape[0]!;
  const width = xShape.slice(1).reduce((a, b) => a * b, 1);
  return occlusion(x, n, width, featureGroups(meta, width), baselineRow(meta, width), forward);
}
