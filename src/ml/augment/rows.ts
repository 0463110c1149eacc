import type { SplitData } from '../dataset.js';

/** Train rows being augmented: inputs, targets and where each row came from (a synthetic row keeps its origin's). */
export interface AugmentRows {
  x: Float32Array | Int32Array;
  /** Values per row of `x`. */
  width: number;
  /** Targets, row-major (`y.length / rows` per row). */
  y: Float32Array;
  n: number;
  sourceRows?: Int32Array;
  ids?: string[];
  /** The kept raw values (preprocess `keep`), by column. */
  kept?: Record<string, string[]>;
}

/** The rows of a split. */
export function rowsOf(split: SplitData): AugmentRows {
  return { x: split.x, width: split.xShape.slice(1).reduce((a, b) => a * b, 1), y: split.y, n: split.n, ...(split.sourceRows ? { sourceRows: split.sourceRows } : {}), ...(split.ids ? { ids: split.ids } : {}), ...(split.kept ? { kept: split.kept } : {}) };
}

function mapKept(kept: Record<string, string[]>, pick: (values: string[]) => string[]): Record<string, string[]> {
  return Object.fromEntries(Object.entries(kept).map(([column, values]) => [column, pick(values)]));
}

/** Rows `index` of `rows` (repeats allowed), then the extra rows of `added` (inputs and the origin row of each), in that order. */
export function takeAndAdd(rows: AugmentRows, index: ArrayLike<number>, added: { x: Float32Array | Int32Array; origins: ArrayLike<number> } = { x: new Float32Array(0), origins: [] }): AugmentRows {
  const w = rows.width;
  const yw = rows.n === 0 ? 1 : rows.y.length / rows.n;
  const n = index.length + added.origins.length;
  const x = rows.x instanceof Int32Array ? new Int32Array(n * w) : new Float32Array(n * w);
  const y = new Float32Array(n * yw);
  const origin = Int32Array.from({ length: n }, (_, i) => (i < index.length ? index[i]! : added.origins[i - index.length]!));
  for (let i = 0; i < index.length; i++) x.set(rows.x.subarray(origin[i]! * w, (origin[i]! + 1) * w), i * w);
  x.set(added.x, index.length * w);
  origin.forEach((r, i) => y.set(rows.y.subarray(r * yw, (r + 1) * yw), i * yw));
  return {
    x,
    width: w,
    y,
    n,
    ...(rows.sourceRows ? { sourceRows: Int32Array.from(origin, (r) => rows.sourceRows![r]!) } : {}),
    ...(rows.ids ? { ids: Array.from(origin, (r) => rows.ids![r]!) } : {}),
    ...(rows.kept ? { kept: mapKept(rows.kept, (values) => Array.from(origin, (r) => values[r]!)) } : {}),
  };
}

/** `copies` perturbed copies of each row, and nothing else: `perturb(row, out)` writes a copy of row `row` into `out`. */
export function perturbedCopies(rows: AugmentRows, copies: number, perturb: (row: number, out: Float32Array | Int32Array) => void): AugmentRows {
  const n = rows.n;
  const w = rows.width;
  const x = rows.x instanceof Int32Array ? new Int32Array(n * copies * w) : new Float32Array(n * copies * w);
  const origins = new Int32Array(n * copies);
  for (let c = 0; c < copies; c++) {
    for (let r = 0; r < n; r++) {
      const k = c * n + r;
      perturb(r, x.subarray(k * w, (k + 1) * w));
      origins[k] = r;
    }
  }
  return takeAndAdd(rows, [], { x, origins });
}

/** The rows of every part, in order. */
export function concatRows(parts: AugmentRows[]): AugmentRows {
  const first = parts[0]!;
  const n = parts.reduce((a, p) => a + p.n, 0);
  const x = first.x instanceof Int32Array ? new Int32Array(n * first.width) : new Float32Array(n * first.width);
  const y = new Float32Array(parts.reduce((a, p) => a + p.y.length, 0));
  let xo = 0;
  let yo = 0;
  for (const p of parts) {
    x.set(p.x, xo);
    y.set(p.y, yo);
    xo += p.x.length;
    yo += p.y.length;
  }
  return {
    x,
    width: first.width,
    y,
    n,
    ...(first.sourceRows ? { sourceRows: Int32Array.from(parts.flatMap((p) => [...p.sourceRows!])) } : {}),
    ...(first.ids ? { ids: parts.flatMap((p) => p.ids!) } : {}),
    ...(first.kept ? { kept: Object.fromEntries(Object.keys(first.kept).map((column) => [column, parts.flatMap((p) => p.kept![column]!)])) } : {}),
  };
}

/** Rows per class index (`y` holds class indices). */
export function classCounts(y: Float32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const c of y) counts[c]!++;
  return counts;
}
