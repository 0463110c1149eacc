import type { ColumnStats, Task, TargetMeta } from './dataset.js';
import { categoryOf, computeStats, inferTask, numberOrThrow, sortCategories, type CellFormat } from './columns.js';
import { DataError, type DataLocation } from './errors.js';
import type { Table } from './read-table.js';

/** One target column after encoding: class indices (classification) or values (regression), one per kept row. */
export interface EncodedTarget {
  name: string;
  task: Task;
  y: Float32Array;
  labels?: string[];
}

/** Infers the task of one target (or takes `task`), warns about integer codes read as regression, and encodes its values. */
export function encodeTargetColumn(
  table: Table,
  name: string,
  index: number,
  task: Task | 'auto',
  keep: number[],
  loc: (i: number) => DataLocation,
  fmt: CellFormat,
  warnings: string[],
): EncodedTarget {
  const values = keep.map((i) => table.rows[i]![index]);
  const resolved = task === 'auto' ? inferTask(values, fmt) : task;
  if (task === 'auto' && resolved === 'regression') {
    const distinct = new Set(values.map((v) => categoryOf(v, fmt)));
    if ([...distinct].every((v) => Number.isInteger(Number(v)))) {
      warnings.push(`target "${name}" holds ${distinct.size} distinct integers: treated as regression (more than 10 values); set task: multiclass if they are class codes`);
    }
  }
  const y = new Float32Array(keep.length);
  if (resolved === 'regression') {
    keep.forEach((i, r) => {
      y[r] = numberOrThrow(table.rows[i]![index], { ...loc(i), column: name }, fmt);
    });
    return { name, task: resolved, y };
  }
  const cats = values.map((v) => categoryOf(v, fmt));
  const labels = sortCategories(cats);
  if (labels.length < 2) {
    throw new DataError(`target "${name}" has a single class (${JSON.stringify(labels[0])}) in ${keep.length} rows`, {
      file: table.file,
      hint: 'a classifier needs at least two classes: check the target column and the rows dropped for missing values',
    });
  }
  if (resolved === 'binary' && labels.length > 2) {
    throw new DataError(`target "${name}" has ${labels.length} classes, but the task is binary`, { file: table.file, hint: 'set task: multiclass (or auto)' });
  }
  const code = new Map(labels.map((l, k) => [l, k]));
  cats.forEach((v, r) => {
    y[r] = code.get(v)!;
  });
  return { name, task: resolved, y, labels };
}

/** The meta of one encoded target: labels and counts per label (classification), or the train statistics its scaling uses (regression). */
export function targetMetaOf(t: EncodedTarget, train: ArrayLike<number>, normalize: 'zscore' | 'minmax' | 'none'): TargetMeta {
  const meta: TargetMeta = { name: t.name, task: t.task };
  if (t.task === 'regression') meta.targetScaling = { normalize, stats: computeStats(Array.from(train, (k) => t.y[k]!)) as ColumnStats };
  if (t.labels) {
    meta.labels = t.labels;
    meta.classCounts = Object.fromEntries(t.labels.map((l) => [l, 0]));
    for (const v of t.y) meta.classCounts[t.labels[v]!]!++;
  }
  return meta;
}

/**
 * Split strata over several targets: one stratum per combination of the classification targets'
 * classes (a multi-label set), so every split keeps the label combinations' proportions. Undefined
 * when no target is a classification.
 */
export function combinedStrata(targets: readonly EncodedTarget[], n: number): number[] | undefined {
  const classified = targets.filter((t) => t.task !== 'regression');
  if (classified.length === 0) return undefined;
  if (classified.length === 1) return Array.from(classified[0]!.y);
  const ids = new Map<string, number>();
  return Array.from({ length: n }, (_, r) => {
    const key = classified.map((t) => t.y[r]).join(',');
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    return id;
  });
}

/** Rows `part` of the targets, row-major: `part.length × targets.length`. */
export function pickTargets(targets: readonly EncodedTarget[], part: readonly number[]): Float32Array {
  const k = targets.length;
  const out = new Float32Array(part.length * k);
  part.forEach((row, r) => {
    for (let j = 0; j < k; j++) out[r * k + j] = targets[j]!.y[row]!;
  });
  return out;
}
