import type { Infer } from '../../schema/fields.js';
import { seededRandom } from '../../seeded-random.js';
import type { augmentField } from './augment-field.js';
import { featureColumnNames } from '../columns.js';
import type { DatasetMeta, SplitData } from '../dataset.js';
import { DataError } from '../errors.js';
import { addNoise, augmentImage, augmentTokens, type ImageAugmentOptions, type TextAugmentOptions } from './perturb.js';
import { resample, type ResampleOptions } from './resample.js';
import { classCounts, concatRows, perturbedCopies, rowsOf, type AugmentRows } from './rows.js';

/** The resolved `augment` block of a preprocess stage, derived from its declaration: applied, seeded, to the train split only; no `seed`: the split seed. */
export type AugmentConfig = Infer<typeof augmentField>;

/** Train rows before and after, in total and per class (classification with one target). */
export interface AugmentReport {
  rowsBefore: number;
  rowsAfter: number;
  labels?: string[];
  before?: number[];
  after?: number[];
  /** What was done, one phrase each: `smote to 1× the majority: +120 rows`. */
  steps: string[];
}

/**
 * Resamples the train split (a classification target), then appends, for each of noise, text and
 * image augmentation, `copies` perturbed copies of every (resampled) row. A synthetic row keeps the
 * source row and id of the row it came from.
 */
export function augmentSplit(train: SplitData, meta: DatasetMeta, config: AugmentConfig, splitSeed: number): { split: SplitData; report: AugmentReport } {
  const random = seededRandom((config.seed ?? splitSeed) ^ 0x61c88647);
  const labels = meta.targets ? undefined : meta.labels;
  const k = labels?.length ?? 0;
  const steps: string[] = [];
  let base: AugmentRows = rowsOf(train);
  const continuous = continuousColumns(meta, base.width);
  if (config.resample) {
    const r = config.resample;
    if (!labels) throw new DataError(`augment.resample balances classes, but this dataset is ${meta.targets ? 'multi-target' : 'a regression'}`, { hint: 'remove augment.resample (or train with class_weight on a classification target)' });
    if (r.method === 'smote' && !continuous.some(Boolean)) throw new DataError(`augment.resample smote interpolates numeric inputs; this ${meta.inputKind} dataset has none`, { hint: 'use method: oversample' });
    const before = base.n;
    base = resample(base, k, { method: r.method, ratio: r.ratio, kNeighbors: r.k_neighbors, continuous }, random);
    const delta = base.n - before;
    steps.push(`${r.method} to ${r.ratio}× the ${r.method === 'undersample' ? 'minority' : 'majority'}: ${delta >= 0 ? '+' : ''}${delta} rows`);
  }
  const extras: AugmentRows[] = [];
  const rows = base;
  if (config.noise) {
    const { std, copies } = config.noise;
    if (!continuous.some(Boolean)) throw new DataError(`augment.noise perturbs numeric inputs; this ${meta.inputKind} dataset has none`, { hint: 'remove augment.noise (for text use augment.text)' });
    extras.push(perturbedCopies(rows, copies, (r, out) => addNoise(rows.x.subarray(r * rows.width, (r + 1) * rows.width), out, continuous, std, random)));
    steps.push(`gaussian noise (std ${std}) on ${continuous.filter(Boolean).length} numeric inputs: +${extras.at(-1)!.n} rows`);
  }
  if (config.text) {
    const blocks = textBlocks(meta);
    if (blocks.length === 0) throw new DataError(`augment.text changes token sequences; this ${meta.inputKind} dataset has no text input`, { hint: 'remove augment.text, or set `text` in the preprocess stage' });
    const t = config.text;
    extras.push(
      perturbedCopies(rows, t.copies, (r, out) => {
        out.set(rows.x.subarray(r * rows.width, (r + 1) * rows.width));
        for (const b of blocks) augmentTokens(out.slice(b.offset, b.offset + b.width), out.subarray(b.offset, b.offset + b.width), { ...t, padding: b.padding }, random);
      }),
    );
    steps.push(`text (deletion ${t.deletion}, swap ${t.swap}, dropout ${t.dropout}): +${extras.at(-1)!.n} rows`);
  }
  if (config.image) {
    if (!meta.image) throw new DataError(`augment.image flips, shifts and rotates images; this is a ${meta.inputKind} dataset`, { hint: 'remove augment.image, or read an image column with preprocess `image:`' });
    const { height, width, channels } = meta.image;
    const im = config.image;
    extras.push(perturbedCopies(rows, im.copies, (r, out) => augmentImage(rows.x.subarray(r * rows.width, (r + 1) * rows.width), out, { height, width, channels }, im, random)));
    steps.push(`image (flip ${im.flip}, shift ${im.shift}, rotate ${im.rotate}°): +${extras.at(-1)!.n} rows`);
  }
  const out = concatRows([base, ...extras]);
  const split: SplitData = { n: out.n, x: out.x, xShape: [out.n, ...train.xShape.slice(1)], y: out.y, ...(out.sourceRows ? { sourceRows: out.sourceRows } : {}), ...(out.ids ? { ids: out.ids } : {}), ...(out.kept ? { kept: out.kept } : {}) };
  const report: AugmentReport = { rowsBefore: train.n, rowsAfter: out.n, steps, ...(labels ? { labels, before: classCounts(train.y, k), after: classCounts(out.y, k) } : {}) };
  return { split, report };
}

/** Which columns of a row are continuous (numeric, date parts, image pixels / array values): noise and SMOTE interpolation apply to these only. */
export function continuousColumns(meta: DatasetMeta, width: number): boolean[] {
  const flags = new Array<boolean>(width).fill(false);
  if (meta.inputKind === 'text') return flags;
  let offset = 0;
  for (const fm of meta.features) {
    const n = featureColumnNames(fm).length;
    const numeric = fm.type !== 'categorical';
    for (let c = 0; c < n; c++) flags[offset + c] = numeric;
    offset += n;
  }
  return flags;
}

function textBlocks(meta: DatasetMeta): { offset: number; width: number; padding: 'pre' | 'post' }[] {
  if (meta.text) return [{ offset: 0, width: meta.text.maxLength, padding: meta.text.padding }];
  const out: { offset: number; width: number; padding: 'pre' | 'post' }[] = [];
  let offset = 0;
  for (const b of meta.inputs ?? []) {
    if (b.text) out.push({ offset, width: b.width, padding: b.text.padding });
    offset += b.width;
  }
  return out;
}
