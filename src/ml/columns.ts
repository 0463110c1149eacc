import type { ColumnStats, FeatureMeta, Task } from './dataset.js';
import { DataError, type DataLocation } from './errors.js';

/** A column's role as inferred or declared. `text` is free text for the tokenizer; `ignore` drops it. */
export type ColumnType = 'numeric' | 'categorical' | 'text' | 'ignore';

/** Cell values read as missing in tabular columns (after trimming), besides null and undefined. */
export const MISSING_MARKERS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '?']);

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_CLASSIFICATION_NUMBERS = 10;
const TEXT_MIN_MEAN_WORDS = 3;
const NUMERIC_SHARE_FOR_ERROR = 0.9;

/** True for null, undefined, and the strings in MISSING_MARKERS. */
export function isMissing(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  return typeof v === 'string' && MISSING_MARKERS.has(v.trim());
}

/**
 * The finite number a cell holds (a JSON number, or a decimal string), else undefined. A value out
 * of the float64 range (`1e999`, Infinity) is not a number here.
 */
export function parseNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!NUMBER_RE.test(s)) return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}

/** True for a number or a decimal string, finite or not (`1e999`, Infinity): a value written as a number. */
export function looksNumeric(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isNaN(v);
  return typeof v === 'string' && NUMBER_RE.test(v.trim());
}

/** The category a cell stands for: trimmed text; finite numbers in canonical form (`4.0` → `4`). */
export function categoryOf(v: unknown): string {
  if (typeof v === 'string') {
    const s = v.trim();
    const x = parseNumber(s);
    return x === undefined ? s : String(x);
  }
  return String(v);
}

/** What type inference concluded for a column, and where it found a value that contradicts a numeric column. */
export interface Inference {
  type: Exclude<ColumnType, 'ignore'>;
  /** Index of the first value that is not a finite number in a column that is otherwise numeric. */
  badIndex?: number;
}

/**
 * Infers a column's type from its non-missing values: all finite numbers → numeric; mostly values
 * written as numbers (≥ 90 %) with a few that are not finite numbers (a word, `1e999`) → numeric with
 * `badIndex` set (the caller reports it); strings
 * that are mostly distinct and average three or more words → text; anything else → categorical.
 */
export function inferColumnType(values: readonly unknown[]): Inference {
  let present = 0;
  let numeric = 0;
  let firstBad = -1;
  let words = 0;
  const distinct = new Set<string>();
  values.forEach((v, i) => {
    if (isMissing(v)) return;
    present++;
    if (firstBad < 0 && parseNumber(v) === undefined) firstBad = i;
    if (looksNumeric(v)) numeric++;
    else if (typeof v === 'string') words += v.trim().split(/\s+/u).length;
    distinct.add(categoryOf(v));
  });
  if (present === 0 || (numeric === present && firstBad < 0)) return { type: 'numeric' };
  if (numeric >= NUMERIC_SHARE_FOR_ERROR * present) return { type: 'numeric', badIndex: firstBad };
  const strings = present - numeric;
  if (words / strings >= TEXT_MIN_MEAN_WORDS && distinct.size > present / 2) return { type: 'text' };
  return { type: 'categorical' };
}

/** Sorts labels or categories: numerically when all are numbers, else by code unit. */
export function sortCategories(values: Iterable<string>): string[] {
  const list = [...new Set(values)];
  if (list.every((v) => parseNumber(v) !== undefined)) return list.sort((a, b) => Number(a) - Number(b));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The task a target column implies: numbers with more than 10 distinct values, or any non-integer
 * (a non-finite value counts as one, so that encoding the target reports it), → regression;
 * otherwise 2 classes → binary, more → multiclass.
 */
export function inferTask(values: readonly unknown[]): Task {
  const present = values.filter((v) => !isMissing(v));
  const allNumeric = present.every(looksNumeric);
  const distinct = new Set(present.map(categoryOf));
  if (allNumeric && (distinct.size > MAX_CLASSIFICATION_NUMBERS || present.some((v) => !Number.isInteger(parseNumber(v))))) {
    return 'regression';
  }
  return distinct.size === 2 ? 'binary' : 'multiclass';
}

/** How missing values are handled: dropped rows, or a fill value per column computed on the train split. */
export type MissingStrategy = { kind: 'drop' } | { kind: 'fill'; fill: 'mean' | 'median' | 'mode' | 'constant'; value?: unknown };

/** The settings `fitFeature` needs for one column. */
export interface FeatureSettings {
  type: 'numeric' | 'categorical';
  normalize: 'zscore' | 'minmax' | 'none';
  encoding: 'onehot' | 'ordinal';
  missing: MissingStrategy;
}

/**
 * Fits one feature on the train split's raw values: the fill value (mean/median for numbers; the
 * mode for categories when mean/median is asked), then statistics or categories of the filled values.
 * `loc(i)` locates train value i for error messages.
 */
export function fitFeature(
  name: string,
  trainValues: readonly unknown[],
  s: FeatureSettings,
  loc: (i: number) => DataLocation,
): FeatureMeta {
  if (s.type === 'numeric') {
    const nums: number[] = [];
    trainValues.forEach((v, i) => {
      if (!isMissing(v)) nums.push(numberOrThrow(v, { ...loc(i), column: name }));
    });
    let fill: number | undefined;
    if (s.missing.kind === 'fill') {
      fill = numericFill(name, nums, s.missing);
      const missingCount = trainValues.length - nums.length;
      for (let i = 0; i < missingCount; i++) nums.push(fill);
    }
    const fm: FeatureMeta = { name, type: 'numeric', encoding: s.normalize, stats: computeStats(nums) };
    if (fill !== undefined) fm.fill = fill;
    return fm;
  }
  const cats = trainValues.filter((v) => !isMissing(v)).map(categoryOf);
  let fill: string | undefined;
  if (s.missing.kind === 'fill') {
    fill = s.missing.fill === 'constant' ? categoryOf(s.missing.value ?? '') : mode(cats);
    if (fill !== undefined) cats.push(fill);
  }
  const fm: FeatureMeta = { name, type: 'categorical', encoding: s.encoding, categories: sortCategories(cats) };
  if (fill !== undefined) fm.fill = fill;
  return fm;
}

/** Mean, population standard deviation, min and max; all 0 for no values. */
export function computeStats(nums: readonly number[]): ColumnStats {
  if (nums.length === 0) return { mean: 0, std: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of nums) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / nums.length;
  let sq = 0;
  for (const v of nums) sq += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(sq / nums.length), min, max };
}

/** How many model input columns a feature becomes. */
export function featureWidth(fm: FeatureMeta): number {
  return fm.encoding === 'onehot' ? fm.categories!.length : 1;
}

/** The model input column names of a feature: the name, or `name=category` per one-hot column. */
export function featureColumnNames(fm: FeatureMeta): string[] {
  return fm.encoding === 'onehot' ? fm.categories!.map((c) => `${fm.name}=${c}`) : [fm.name];
}

/** Precomputed lookups for encoding many rows with one feature. */
export interface FeatureEncoder {
  meta: FeatureMeta;
  width: number;
  codes?: Map<string, number>;
}

export function featureEncoder(fm: FeatureMeta): FeatureEncoder {
  const codes = fm.categories ? new Map(fm.categories.map((c, i) => [c, i])) : undefined;
  return { meta: fm, width: featureWidth(fm), codes };
}

/**
 * Encodes one raw cell into `out[offset..offset+width)`. A missing cell takes the feature's fill
 * value or is a DataError; a cell in a numeric feature that is not a finite number, or that scales to
 * a value out of the float32 range, is a DataError naming `loc`.
 */
export function encodeFeature(enc: FeatureEncoder, raw: unknown, out: Float32Array, offset: number, loc: DataLocation): void {
  const fm = enc.meta;
  let v = raw;
  if (isMissing(v)) {
    if (fm.fill === undefined) {
      throw new DataError('is missing', { ...loc, column: fm.name, hint: 'provide a value, or preprocess with `missing` set to a fill strategy' });
    }
    v = fm.fill;
  }
  if (fm.type === 'numeric') {
    const x = numberOrThrow(v, { ...loc, column: fm.name });
    const st = fm.stats!;
    const scaled = fm.encoding === 'zscore' ? (x - st.mean) / (st.std || 1) : fm.encoding === 'minmax' ? (x - st.min) / (st.max - st.min || 1) : x;
    out[offset] = scaled;
    if (!Number.isFinite(out[offset])) {
      throw new DataError(`expected a finite number, got ${describeValue(v)}, which is out of range for the model's 32-bit float input`, {
        ...loc,
        column: fm.name,
        hint: 'fix the data, or rescale the column',
      });
    }
    return;
  }
  const code = enc.codes!.get(categoryOf(v));
  if (fm.encoding === 'ordinal') {
    out[offset] = code ?? -1;
    return;
  }
  out.fill(0, offset, offset + enc.width);
  if (code !== undefined) out[offset + code] = 1;
}

/** The finite number in a cell, or a DataError naming the location with the fix. */
export function numberOrThrow(v: unknown, loc: DataLocation): number {
  const x = parseNumber(v);
  if (x === undefined && looksNumeric(v)) {
    throw new DataError(`expected a finite number, got ${describeValue(v)}`, { ...loc, hint: 'fix the data: the value is out of the float64 range' });
  }
  if (x === undefined) {
    throw new DataError(`expected a number, got ${describeValue(v)}`, {
      ...loc,
      hint: `declare the column categorical (columns: { ${JSON.stringify(loc.column ?? 'NAME')}: { type: categorical } }) or fix the data`,
    });
  }
  return x;
}

function describeValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

function numericFill(name: string, nums: number[], m: Extract<MissingStrategy, { kind: 'fill' }>): number {
  if (m.fill === 'constant') {
    const x = parseNumber(m.value);
    if (x === undefined) {
      throw new DataError(`missing.value ${JSON.stringify(m.value)} is not a number, but the column is numeric`, {
        column: name,
        hint: 'give a numeric missing.value, or fill with mean, median or mode',
      });
    }
    return x;
  }
  if (nums.length === 0) return 0;
  if (m.fill === 'mean') return nums.reduce((a, b) => a + b, 0) / nums.length;
  if (m.fill === 'median') {
    const s = [...nums].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  }
  return Number(mode(nums.map(String)));
}

function mode(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const v of sortCategories(counts.keys())) {
    const c = counts.get(v)!;
    if (c > bestCount) [best, bestCount] = [v, c];
  }
  return best;
}
