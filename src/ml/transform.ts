import type { DatasetMeta, FeatureMeta, TextMeta } from './dataset.js';
import { cellFormatOf, encodeFeature, featureEncoder, type FeatureEncoder } from './columns.js';
import { DataError } from './errors.js';
import { encodeTokens, tokenize, vocabIndex } from './tokenize.js';

/** Model input for raw rows, shaped like a split's `x`. */
export interface TransformedRows {
  x: Float32Array | Int32Array;
  xShape: number[];
}

interface TabularEncoding {
  encoders: FeatureEncoder[];
  width: number;
}

const vocabIndexes = new WeakMap<readonly string[], Map<string, number>>();
const tabularEncodings = new WeakMap<FeatureMeta[], TabularEncoding>();

/**
 * Applies the training-time preprocessing recorded in `meta` to raw rows (objects keyed by column
 * name: numbers, strings, booleans or null): the same fill values, statistics, categories,
 * tokenizer and vocabulary. A missing value, or a value that is not a finite number where a number
 * is needed, is a DataError naming the 1-based row and the column.
 *
 * The vocabulary index and the feature encoders are built once per `meta.text.vocab` /
 * `meta.features` array and reused by later calls, so do not change those arrays in place afterwards.
 */
export function transformRows(meta: DatasetMeta, rows: Record<string, unknown>[]): TransformedRows;
/** The same for rows of cells in the order of `columns` (no per-row objects are built). */
export function transformRows(meta: DatasetMeta, rows: unknown[][], columns: readonly string[]): TransformedRows;
export function transformRows(meta: DatasetMeta, rows: Array<Record<string, unknown> | unknown[]>, columns?: readonly string[]): TransformedRows {
  const key = keyOf(columns);
  if (meta.inputKind === 'text') {
    const t = meta.text!;
    const x = new Int32Array(rows.length * t.maxLength);
    const k = key(t.column);
    rows.forEach((row, i) => encodeText(t, row as Record<string | number, unknown>, k, i, x, i * t.maxLength));
    return { x, xShape: [rows.length, t.maxLength] };
  }
  const { encoders, width: tabularWidth } = tabularEncoding(meta);
  const keys = encoders.map((enc) => key(enc.meta.name));
  const texts = (meta.inputs ?? []).flatMap((b) => (b.text ? [{ t: b.text, key: key(b.text.column) }] : []));
  const width = tabularWidth + texts.reduce((w, { t }) => w + t.maxLength, 0);
  const scratch = new Int32Array(Math.max(0, ...texts.map(({ t }) => t.maxLength)));
  const x = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string | number, unknown>;
    if (!row || typeof row !== 'object') throw new DataError(`must be an object of column values, got ${JSON.stringify(row)}`, { row: i + 1 });
    let offset = i * width;
    const loc = { row: i + 1 };
    for (let e = 0; e < encoders.length; e++) {
      const enc = encoders[e]!;
      encodeFeature(enc, row[keys[e]!], x, offset, loc);
      offset += enc.width;
    }
    for (const { t, key: k } of texts) {
      encodeText(t, row, k, i, scratch, 0);
      for (let j = 0; j < t.maxLength; j++) x[offset + j] = scratch[j]!;
      offset += t.maxLength;
    }
  }
  const xShape = meta.image ? [rows.length, meta.image.height, meta.image.width, meta.image.channels] : [rows.length, width];
  return { x, xShape };
}

/** Where a column's cell is in a row: its name (object rows), or its index in `columns` (a column not there reads as missing). */
function keyOf(columns: readonly string[] | undefined): (name: string) => string | number {
  if (!columns) return (name) => name;
  const index = new Map(columns.map((c, j) => [c, j]));
  return (name) => index.get(name) ?? -1;
}

/** The token ids of row `i`'s text column `t` into `out` at `offset`; a missing or non-text value is a DataError naming the row and column. */
function encodeText(t: TextMeta, row: Record<string | number, unknown>, key: string | number, i: number, out: Int32Array, offset: number): void {
  const raw = row?.[key];
  if (raw === undefined || raw === null || typeof raw === 'object') {
    throw new DataError(raw ? `expected text, got ${JSON.stringify(raw)}` : 'is missing', {
      row: i + 1,
      column: t.column,
      hint: `send each row as an object with a "${t.column}" string`,
    });
  }
  encodeTokens(tokenize(String(raw), t.tokenizer, t.lowercase), textIndex(t.vocab), t, out, offset);
}

function textIndex(vocab: readonly string[]): Map<string, number> {
  let index = vocabIndexes.get(vocab);
  if (!index) vocabIndexes.set(vocab, (index = vocabIndex(vocab)));
  return index;
}

function tabularEncoding(meta: DatasetMeta): TabularEncoding {
  const features = meta.features;
  let enc = tabularEncodings.get(features);
  if (!enc) {
    const format = cellFormatOf(meta.format);
    const encoders = features.map((fm) => featureEncoder(fm, format));
    enc = { encoders, width: encoders.reduce((w, e) => w + e.width, 0) };
    tabularEncodings.set(features, enc);
  }
  return enc;
}
