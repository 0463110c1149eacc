import type { DatasetMeta } from './dataset.js';
import { encodeFeature, featureEncoder } from './columns.js';
import { DataError } from './errors.js';
import { encodeTokens, tokenize, vocabIndex } from './tokenize.js';

/** Model input for raw rows, shaped like a split's `x`. */
export interface TransformedRows {
  x: Float32Array | Int32Array;
  xShape: number[];
}

/**
 * Applies the training-time preprocessing recorded in `meta` to raw rows (objects keyed by column
 * name: numbers, strings, booleans or null): the same fill values, statistics, categories,
 * tokenizer and vocabulary. A missing or non-numeric value where a number is needed is a DataError
 * naming the 1-based row and the column.
 */
export function transformRows(meta: DatasetMeta, rows: Record<string, unknown>[]): TransformedRows {
  if (meta.inputKind === 'text') {
    const t = meta.text!;
    const index = vocabIndex(t.vocab);
    const x = new Int32Array(rows.length * t.maxLength);
    rows.forEach((row, i) => {
      const raw = row?.[t.column];
      if (raw === undefined || raw === null || typeof raw === 'object') {
        throw new DataError(raw ? `expected text, got ${JSON.stringify(raw)}` : 'is missing', {
          row: i + 1,
          column: t.column,
          hint: `send each row as an object with a "${t.column}" string`,
        });
      }
      encodeTokens(tokenize(String(raw), t.tokenizer, t.lowercase), index, t, x, i * t.maxLength);
    });
    return { x, xShape: [rows.length, t.maxLength] };
  }
  const encoders = meta.features.map(featureEncoder);
  const width = encoders.reduce((w, e) => w + e.width, 0);
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    if (!row || typeof row !== 'object') throw new DataError(`must be an object of column values, got ${JSON.stringify(row)}`, { row: i + 1 });
    let offset = i * width;
    for (const enc of encoders) {
      encodeFeature(enc, row[enc.meta.name], x, offset, { row: i + 1 });
      offset += enc.width;
    }
  });
  return { x, xShape: [rows.length, width] };
}
