import type { CellFormatMeta, ColumnStats, FeatureMeta, Task } from './dataset.js';
import { datePart, looksLikeDate, parseDate, type DatePart, DEFAULT_DATE_PARTS } from './dates.js';
import { DataError, type DataLocation } from './errors.js';

/** A column's role as inferred or declared. `text` is free text for the tokenizer; `ignore` drops it. */
export type ColumnType = 'numeric' | 'categorical' | 'text' | 'ignore' | 'date' | 'array';

/** Cell values read as missing (after trimming) by default, besides null and undefined: pandas' markers and a few more. */
export const DEFAULT_NA_VALUES: readonly string[] = ['', 'NA', 'N/A', 'n/a', 'na', 'NaN', 'nan', '-NaN', '-nan', 'null', 'NULL', 'None', 'none', 'NONE', '#N/A', '#NA', '<NA>', '?', '-'];

/**
 * How cells are read: which strings stand for a missing value, and how numbers are written
 * (`decimal` mark; `thousands` separator, accepted only in well-formed groups of three digits, or
 * null for none).
 */
export interface CellFormat {
  naValues: ReadonlySet<string>;
  decimal: '.' | ',';
  thousands: string | null;
}

/** `1,234.5` and `62,617` are numbers, the markers in DEFAULT_NA_VALUES are missing. */
export const DEFAULT_CELL_FORMAT: CellFormat = { naValues: new Set(DEFAULT_NA_VALUES), decimal: '.', thousands: ',' };

/** The cell format of a preprocess config: `thousands: auto` is `,` with a `.` decimal mark and `.` with a `,` one; `none` is no separator. */
export function cellFormatMeta(o: { na_values?: readonly string[]; decimal?: '.' | ','; thousands?: string }): CellFormatMeta {
  const decimal = o.decimal ?? '.';
  const t = o.thousands ?? 'auto';
  const thousands = t === 'none' ? null : t === 'auto' ? (decimal === '.' ? ',' : '.') : t === 'space' ? ' ' : t;
  if (thousands === decimal) throw new DataError(`thousands separator and decimal mark are both "${decimal}"`, { hint: 'set `thousands` to another character, or none' });
  return { naValues: [...(o.na_values ?? DEFAULT_NA_VALUES)].map((v) => v.trim()), decimal, thousands };
}

/** The CellFormat of a meta.json; the default for datasets written before it was recorded. */
export function cellFormatOf(meta: CellFormatMeta | undefined): CellFormat {
  if (!meta) return DEFAULT_CELL_FORMAT;
  let format = formats.get(meta);
  if (!format) formats.set(meta, (format = { naValues: new Set(meta.naValues), decimal: meta.decimal, thousands: meta.thousands }));
  return format;
}

const formats = new WeakMap<CellFormatMeta, CellFormat>();
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const groupPatterns = new Map<string, RegExp>();
const MAX_CLASSIFICATION_NUMBERS = 10;
const TEXT_MIN_MEAN_WORDS = 3;
const NUMERIC_SHARE_FOR_ERROR = 0.9;

/** True for null, undefined, NaN, and the strings in the format's `naValues`. */
export function isMissing(v: unknown, fmt: CellFormat = DEFAULT_CELL_FORMAT): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  return typeof v === 'string' && fmt.naValues.has(v.trim());
}

/** A number written in `fmt` as the plain decimal string JavaScript reads, else undefined: `62,617` → `62617`, `1.234,5` (decimal `,`) → `1234.5`. */
function plainNumeral(raw: string, fmt: CellFormat): string | undefined {
  let s = raw.trim();
  if (fmt.thousands !== null && s.includes(fmt.thousands)) {
    const t = fmt.thousands;
    let re = groupPatterns.get(t + fmt.decimal);
    if (!re) {
      const T = t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const D = fmt.decimal === '.' ? '\\.' : ',';
      re = new RegExp(`^[+-]?\\d{1,3}(?:${T}\\d{3})+(?:${D}\\d*)?$`);
      groupPatterns.set(t + fmt.decimal, re);
    }
    if (!re.test(s)) return undefined;
    s = s.split(t).join('');
  }
  if (fmt.decimal === ',') {
    if (s.includes('.')) return undefined;
    s = s.replace(',', '.');
  }
  return NUMBER_RE.test(s) ? s : undefined;
}

/**
 * The finite number a cell holds (a JSON number, or a string written as a number in `fmt`), else
 * undefined. A value out of the float64 range (`1e999`, Infinity) is not a number here.
 */
export function parseNumber(v: unknown, fmt: CellFormat = DEFAULT_CELL_FORMAT): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = plainNumeral(v, fmt);
  if (s === undefined) return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}

/** Per cell format: whether {@link quickNumber} may read its cells (see there). */
const quickFormats = new WeakMap<CellFormat, boolean>();

/** `[+-]?(\d+(\.\d*)?|\.\d+)`: a plain decimal, a subset of NUMBER_RE without spaces, separators or exponent. */
function isPlainDecimal(s: string): boolean {
  let i = 0;
  const n = s.length;
  let c = s.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) i++;
  let digits = 0;
  let point = false;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === 0x2e && !point) point = true;
    else return false;
  }
  return digits > 0;
}

/**
 * The number of a string cell in plain decimal notation, read without trimming, NA look-up or
 * regular expression, where `fmt` lets that give what isMissing and parseNumber give: a `.`
 * decimal mark, a thousands separator that no such string holds, no missing marker written so.
 * Else (and for other cells, or a value out of range) undefined: the general path decides.
 */
export function quickNumber(v: unknown, fmt: CellFormat): number | undefined {
  if (typeof v !== 'string') return undefined;
  let ok = quickFormats.get(fmt);
  if (ok === undefined) {
    ok = fmt.decimal === '.' && (fmt.thousands === null || !/[\d.+-]/.test(fmt.thousands)) && ![...fmt.naValues].some(isPlainDecimal);
    quickFormats.set(fmt, ok);
  }
  if (!ok || !isPlainDecimal(v)) return undefined;
  const x = Number(v);
  return Number.isFinite(x) ? x : undefined;
}

/** True for a number or a string written as a number, finite or not (`1e999`, Infinity). */
export function looksNumeric(v: unknown, fmt: CellFormat = DEFAULT_CELL_FORMAT): boolean {
  if (typeof v === 'number') return !Number.isNaN(v);
  return typeof v === 'string' && plainNumeral(v, fmt) !== undefined;
}

/** The category a cell stands for: trimmed text; finite numbers in canonical form (`4.0` → `4`). */
export function categoryOf(v: unknown, fmt: CellFormat = DEFAULT_CELL_FORMAT): string {
  if (typeof v === 'string') {
    const s = v.trim();
    const x = parseNumber(s, fmt);
    return x === undefined ? s : String(x);
  }
  return String(v);
}

/** A kept cell (preprocess `keep`) as stored beside the split: `''` when missing, else its category ({@link categoryOf}). */
export function keptValue(v: unknown, fmt: CellFormat = DEFAULT_CELL_FORMAT): string {
  return isMissing(v, fmt) ? '' : categoryOf(v, fmt);
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
export function inferColumnType(values: readonly unknown[], fmt: CellFormat = DEFAULT_CELL_FORMAT): Inference {
  return inferFromVisits((visit) => values.forEach((v, i) => visit(v, 1, i)), fmt);
}

/**
 * inferColumnType over distinct values with their counts (as an engine's GROUP BY gives them);
 * `badIndex`, when set, is the index in `entries` of a value that contradicts a numeric column.
 */
export function inferColumnTypeOfCounts(entries: ReadonlyArray<readonly [unknown, number]>, fmt: CellFormat = DEFAULT_CELL_FORMAT): Inference {
  return inferFromVisits((visit) => entries.forEach(([v, count], i) => visit(v, count, i)), fmt);
}

function inferFromVisits(each: (visit: (v: unknown, count: number, index: number) => void) => void, fmt: CellFormat): Inference {
  let present = 0;
  let numeric = 0;
  let firstBad = -1;
  let words = 0;
  let dates = 0;
  const distinct = new Set<string>();
  let arrays = 0;
  each((v, count, i) => {
    if (isMissing(v, fmt)) return;
    present += count;
    if (isNumberArray(v)) {
      arrays += count;
      return;
    }
    if (firstBad < 0 && parseNumber(v, fmt) === undefined) firstBad = i;
    if (looksNumeric(v, fmt)) numeric += count;
    else if (typeof v === 'string') {
      words += v.trim().split(/\s+/u).length * count;
      if (looksLikeDate(v)) dates += count;
    }
    distinct.add(categoryOf(v, fmt));
  });
  if (arrays > 0 && arrays === present) return { type: 'array' };
  if (present === 0 || (numeric === present && firstBad < 0)) return { type: 'numeric' };
  if (numeric >= NUMERIC_SHARE_FOR_ERROR * present) return { type: 'numeric', badIndex: firstBad };
  const strings = present - numeric;
  if (dates >= NUMERIC_SHARE_FOR_ERROR * present) return { type: 'date' };
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
export function inferTask(values: readonly unknown[], fmt: CellFormat = DEFAULT_CELL_FORMAT): Task {
  const present = values.filter((v) => !isMissing(v, fmt));
  const allNumeric = present.every((v) => looksNumeric(v, fmt));
  const distinct = new Set(present.map((v) => categoryOf(v, fmt)));
  if (allNumeric && (distinct.size > MAX_CLASSIFICATION_NUMBERS || present.some((v) => !Number.isInteger(parseNumber(v, fmt))))) {
    return 'regression';
  }
  return distinct.size === 2 ? 'binary' : 'multiclass';
}

/** How missing values are handled: dropped rows, or a fill value per column computed on the train split. */
export type MissingStrategy = { kind: 'drop' } | { kind: 'fill'; fill: 'mean' | 'median' | 'mode' | 'constant'; value?: unknown };

/** The settings `fitFeature` needs for one column. */
export interface FeatureSettings {
  type: 'numeric' | 'categorical' | 'date' | 'array';
  /** date only: the parts it expands into (default DEFAULT_DATE_PARTS). */
  parts?: readonly DatePart[];
  normalize: 'zscore' | 'minmax' | 'none';
  encoding: 'onehot' | 'ordinal';
  missing: MissingStrategy;
  /** Default: DEFAULT_CELL_FORMAT. */
  format?: CellFormat;
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
  const fmt = s.format ?? DEFAULT_CELL_FORMAT;
  if (s.type === 'numeric') {
    const nums: number[] = [];
    trainValues.forEach((v, i) => {
      if (!isMissing(v, fmt)) nums.push(numberOrThrow(v, { ...loc(i), column: name }, fmt));
    });
    let fill: number | undefined;
    if (s.missing.kind === 'fill') {
      fill = numericFill(name, nums, s.missing, fmt);
      const missingCount = trainValues.length - nums.length;
      for (let i = 0; i < missingCount; i++) nums.push(fill);
    }
    const fm: FeatureMeta = { name, type: 'numeric', encoding: s.normalize, stats: computeStats(nums) };
    if (fill !== undefined) fm.fill = fill;
    return fm;
  }
  if (s.type === 'date') return fitDate(name, trainValues, s, fmt, loc);
  if (s.type === 'array') return fitArray(name, trainValues, s, fmt, loc);
  const cats = trainValues.filter((v) => !isMissing(v, fmt)).map((v) => categoryOf(v, fmt));
  let fill: string | undefined;
  if (s.missing.kind === 'fill') {
    fill = s.missing.fill === 'constant' ? categoryOf(s.missing.value ?? '', fmt) : mode(cats);
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
  if (fm.type === 'array') return fm.length!;
  if (fm.type === 'date') return fm.parts!.length;
  return fm.encoding === 'onehot' ? fm.categories!.length : 1;
}

/** The model input column names of a feature: the name, or `name=category` per one-hot column. */
export function featureColumnNames(fm: FeatureMeta): string[] {
  if (fm.type === 'array') return Array.from({ length: fm.length! }, (_, i) => `${fm.name}[${i}]`);
  if (fm.type === 'date') return fm.parts!.map((p) => `${fm.name}.${p}`);
  return fm.encoding === 'onehot' ? fm.categories!.map((c) => `${fm.name}=${c}`) : [fm.name];
}

/** Precomputed lookups for encoding many rows with one feature. */
export interface FeatureEncoder {
  meta: FeatureMeta;
  width: number;
  codes?: Map<string, number>;
  format: CellFormat;
}

export function featureEncoder(fm: FeatureMeta, format: CellFormat = DEFAULT_CELL_FORMAT): FeatureEncoder {
  const codes = fm.categories ? new Map(fm.categories.map((c, i) => [c, i])) : undefined;
  return { meta: fm, width: featureWidth(fm), codes, format };
}

/**
 * Encodes one raw cell into `out[offset..offset+width)`. A missing cell takes the feature's fill
 * value or is a DataError; a cell in a numeric feature that is not a finite number, or that scales to
 * a value out of the float32 range, is a DataError naming `loc`.
 */
export function encodeFeature(enc: FeatureEncoder, raw: unknown, out: Float32Array, offset: number, loc: DataLocation): void {
  const fm = enc.meta;
  let v = raw;
  const quick = fm.type === 'numeric' ? quickNumber(v, enc.format) : undefined;
  if (quick === undefined && isMissing(v, enc.format)) {
    if (fm.fill === undefined) {
      throw new DataError('is missing', { ...loc, column: fm.name, hint: 'provide a value, or preprocess with `missing` set to a fill strategy' });
    }
    v = fm.fill;
  }
  if (fm.type === 'numeric') {
    // parseNumber first: the located error (and its object) is only built for a bad cell.
    const x = quick ?? parseNumber(v, enc.format) ?? numberOrThrow(v, { ...loc, column: fm.name }, enc.format);
    out[offset] = scaleValue(x, fm.stats!, fm.encoding);
    if (!Number.isFinite(out[offset])) {
      throw new DataError(`expected a finite number, got ${describeValue(v)}, which is out of range for the model's 32-bit float input`, {
        ...loc,
        column: fm.name,
        hint: 'fix the data, or rescale the column',
      });
    }
    return;
  }
  if (fm.type === 'array') {
    const values = arrayOrThrow(v, fm.length!, { ...loc, column: fm.name });
    const st = fm.stats!;
    for (let j = 0; j < values.length; j++) out[offset + j] = scaleValue(values[j]!, st, fm.encoding);
    return;
  }
  if (fm.type === 'date') {
    const t = dateOrThrow(v, { ...loc, column: fm.name });
    fm.parts!.forEach((part, j) => {
      out[offset + j] = scaleValue(datePart(t, part), fm.partStats![j]!, fm.encoding);
    });
    return;
  }
  const code = enc.codes!.get(categoryOf(v, enc.format));
  if (fm.encoding === 'ordinal') {
    out[offset] = code ?? -1;
    return;
  }
  out.fill(0, offset, offset + enc.width);
  if (code !== undefined) out[offset + code] = 1;
}

export function scaleValue(x: number, st: ColumnStats, encoding: FeatureMeta['encoding']): number {
  return encoding === 'zscore' ? (x - st.mean) / (st.std || 1) : encoding === 'minmax' ? (x - st.min) / (st.max - st.min || 1) : x;
}

/** A list of numbers in a cell: a JSON array (jsonl), a typed array (decoded image), or a string holding a JSON array (csv). */
export function isNumberArray(v: unknown): v is ArrayLike<number> {
  if (v instanceof Float32Array) return true;
  if (typeof v === 'string') return v.trimStart().startsWith('[') && parseArray(v) !== undefined;
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function parseArray(s: string): number[] | undefined {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The numbers of an array cell, which must hold `length` of them; else a DataError naming `loc`. */
export function arrayOrThrow(v: unknown, length: number | undefined, loc: DataLocation): ArrayLike<number> {
  const values = typeof v === 'string' ? parseArray(v) : isNumberArray(v) ? v : undefined;
  if (!values) throw new DataError(`expected a list of numbers, got ${describeValue(v)}`, { ...loc, hint: 'give each cell of an array column as a JSON array of numbers, e.g. [0, 0.5, 1]' });
  if (length !== undefined && values.length !== length) throw new DataError(`holds ${values.length} numbers, expected ${length} like the train rows`, { ...loc, hint: 'every cell of an array column must have the same length' });
  return values;
}

/** An array column: every value of every train cell feeds one set of statistics (for pixel-like data). A missing cell takes the mean everywhere when filling. */
function fitArray(name: string, trainValues: readonly unknown[], s: FeatureSettings, fmt: CellFormat, loc: (i: number) => DataLocation): FeatureMeta {
  let length: number | undefined;
  const all: number[] = [];
  trainValues.forEach((v, i) => {
    if (isMissing(v, fmt)) return;
    const values = arrayOrThrow(v, length, { ...loc(i), column: name });
    length ??= values.length;
    for (let j = 0; j < values.length; j++) all.push(values[j]!);
  });
  const stats = computeStats(all);
  const fm: FeatureMeta = { name, type: 'array', encoding: s.normalize, length: length ?? 0, stats };
  if (s.missing.kind === 'fill') fm.fill = JSON.stringify(new Array<number>(length ?? 0).fill(stats.mean));
  return fm;
}

/** A date column: the fill (median or mode time, or the constant), then statistics of each part over the filled train values. */
function fitDate(name: string, trainValues: readonly unknown[], s: FeatureSettings, fmt: CellFormat, loc: (i: number) => DataLocation): FeatureMeta {
  const times: number[] = [];
  trainValues.forEach((v, i) => {
    if (!isMissing(v, fmt)) times.push(dateOrThrow(v, { ...loc(i), column: name }));
  });
  let fill: string | undefined;
  if (s.missing.kind === 'fill') {
    if (s.missing.fill === 'constant') fill = String(s.missing.value ?? '');
    else {
      const sorted = [...times].sort((a, b) => a - b);
      fill = new Date(sorted[sorted.length >> 1] ?? 0).toISOString();
    }
    const t = dateOrThrow(fill, { column: name });
    for (let k = times.length; k < trainValues.length; k++) times.push(t);
  }
  const parts = [...(s.parts ?? DEFAULT_DATE_PARTS)];
  const fm: FeatureMeta = { name, type: 'date', encoding: s.normalize, parts, partStats: parts.map((p) => computeStats(times.map((t) => datePart(t, p)))) };
  if (fill !== undefined) fm.fill = fill;
  return fm;
}

/** The time of a date cell, or a DataError naming the location. */
export function dateOrThrow(v: unknown, loc: DataLocation): number {
  const t = parseDate(v);
  if (t === undefined) {
    throw new DataError(`expected a date like 2024-03-05 or 2024-03-05T14:30:00Z, got ${describeValue(v)}`, {
      ...loc,
      hint: `fix the data, add the value to na_values if it marks a missing value, or declare the column categorical (columns: { ${JSON.stringify(loc.column ?? 'NAME')}: { type: categorical } })`,
    });
  }
  return t;
}

/** The finite number in a cell, or a DataError naming the location with the fix. */
export function numberOrThrow(v: unknown, loc: DataLocation, fmt: CellFormat = DEFAULT_CELL_FORMAT): number {
  const x = parseNumber(v, fmt);
  if (x === undefined && looksNumeric(v, fmt)) {
    throw new DataError(`expected a finite number, got ${describeValue(v)}`, { ...loc, hint: 'fix the data: the value is out of the float64 range' });
  }
  if (x === undefined) {
    throw new DataError(`expected a number, got ${describeValue(v)}`, {
      ...loc,
      hint: `declare the column categorical (columns: { ${JSON.stringify(loc.column ?? 'NAME')}: { type: categorical } }), add the value to na_values if it marks a missing value, set decimal/thousands if numbers are written another way, or fix the data`,
    });
  }
  return x;
}

function describeValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

function numericFill(name: string, nums: number[], m: Extract<MissingStrategy, { kind: 'fill' }>, fmt: CellFormat): number {
  if (m.fill === 'constant') {
    const x = parseNumber(m.value, fmt);
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
