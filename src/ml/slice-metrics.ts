import { DataError } from './errors.js';
import { metricKeyParts } from './metric-key.js';

/** One value of a slice column: its rows and their metrics. */
export interface Slice {
  value: string;
  /** The value as it appears in metric keys (see metric-key.ts). */
  key: string;
  n: number;
  metrics: Record<string, number>;
}

/** A slice column: a {@link Slice} per value (sorted), and per metric the largest difference between two of them. */
export interface SliceColumn {
  column: string;
  key: string;
  slices: Slice[];
  gaps: Record<string, number>;
}

/**
 * Scores the rows of each value of each column apart: `score(rows)` gives the metrics of those row
 * indexes. A metric's gap is its largest value minus its smallest over the slices that have it (a
 * slice with a single class has no auc); with one value the gap is 0.
 */
export function sliceColumns(kept: Readonly<Record<string, readonly string[]>>, columns: readonly string[], score: (rows: Int32Array) => Record<string, number>): SliceColumn[] {
  const columnKeys = metricKeyParts(columns, (a, b, part) => {
    throw new DataError(`the slice columns "${a}" and "${b}" would both be named "slices.${part}" in metrics`, { hint: 'slice on one of them' });
  });
  return columns.map((column) => {
    const values = kept[column];
    if (!values) throw new DataError(`the dataset holds no values of "${column}" to slice on`, { hint: `add ${column} to the preprocess stage's keep list` });
    const rows = new Map<string, number[]>();
    values.forEach((v, i) => {
      const list = rows.get(v);
      if (list) list.push(i);
      else rows.set(v, [i]);
    });
    const sorted = [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = metricKeyParts(sorted, (a, b, part) => {
      throw new DataError(`the values "${a}" and "${b}" of slice column "${column}" would both be named "${part}" in metrics`, { hint: `recode one of them in the data, or do not slice on ${column}` });
    });
    const slices = sorted.map((value) => {
      const index = Int32Array.from(rows.get(value)!);
      return { value, key: keys.get(value)!, n: index.length, metrics: score(index) };
    });
    const gaps: Record<string, number> = {};
    for (const name of [...new Set(slices.flatMap((s) => Object.keys(s.metrics)))].sort()) {
      const present = slices.map((s) => s.metrics[name]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (present.length > 0) gaps[name] = Math.max(...present) - Math.min(...present);
    }
    return { column, key: columnKeys.get(column)!, slices, gaps };
  });
}

/** The slices as metrics: `slices.<column>.<value>.<metric>`, `slices.<column>.<value>.n` and `slices.<column>.<metric>_gap`. */
export function sliceMetricsOf(columns: readonly SliceColumn[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of columns) {
    for (const s of c.slices) {
      out[`slices.${c.key}.${s.key}.n`] = s.n;
      for (const [name, value] of Object.entries(s.metrics)) out[`slices.${c.key}.${s.key}.${name}`] = value;
    }
    for (const [name, gap] of Object.entries(c.gaps)) out[`slices.${c.key}.${name}_gap`] = gap;
  }
  return out;
}
