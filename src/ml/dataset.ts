import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { DatePart } from './dates.js';
import type { ImageOptions } from './images.js';
import { DatasetCorruptError } from './errors.js';

/** What the label is: two classes, more than two, or a number. */
export type Task = 'binary' | 'multiclass' | 'regression';

/** The split names a dataset may hold, in file order. */
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** The format as stored in a dataset's meta.json (and so in every model), to read raw rows at predict time the same way. */
export interface CellFormatMeta {
  naValues: string[];
  decimal: '.' | ',';
  thousands: string | null;
}

/** One split in memory. */
export interface SplitData {
  n: number;
  /** Model input, row-major: float32 features (tabular) or int32 token ids (text). */
  x: Float32Array | Int32Array;
  /** Full shape of `x`, rows first: `[n, features]` or `[n, maxLength]`. */
  xShape: number[];
  /** Class index (0..k-1) for classification, the value for regression; with several targets, row-major n × targets (one column per target). */
  y: Float32Array;
  /** The 1-based data row of each sample in the source file (row 1: the first row after the header). */
  sourceRows?: Int32Array;
  /** The value of the dataset's id column for each sample, when preprocess named one. */
  ids?: string[];
  /** Cross-validated datasets, train split: the 0-based fold of each sample (see `DatasetMeta.cv`). */
  folds?: Int32Array;
  /** The raw values of the columns preprocess `keep` names (`DatasetMeta.kept`), by column: one per sample, `''` where missing. */
  kept?: Record<string, string[]>;
}

/** Statistics of a numeric column, computed on the train split only (after filling). */
export interface ColumnStats {
  mean: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
}

/**
 * How one raw tabular column becomes model input columns.
 * - numeric: one column, `encoding` the normalization (`zscore` (v-mean)/std, `minmax` (v-min)/(max-min), `none`);
 *   a zero std or range leaves the centred value unscaled.
 * - categorical: `onehot` gives one column per category (an unknown category is all zeros);
 *   `ordinal` gives the category's index (an unknown category is -1).
 */
export interface FeatureMeta {
  /** The raw column name. */
  name: string;
  type: 'numeric' | 'categorical' | 'date' | 'array';
  encoding: 'zscore' | 'minmax' | 'none' | 'onehot' | 'ordinal';
  /** numeric only. */
  stats?: ColumnStats;
  /** array only: the number of values per cell (each a model input; `stats` are over all of them). */
  length?: number;
  /** date only: the parts it expands into, one model input each, and their train statistics. */
  parts?: DatePart[];
  partStats?: ColumnStats[];
  /** categorical only: the categories in code order (sorted). */
  categories?: string[];
  /** The value a missing cell takes; absent when missing values are an error (rows were dropped in training). */
  fill?: number | string;
}

/** How a text column becomes a fixed-length sequence of token ids. */
export interface TextMeta {
  column: string;
  tokenizer: 'word' | 'char' | 'whitespace';
  lowercase: boolean;
  /** Index = token id; 0 is the padding token `<pad>`, 1 the out-of-vocabulary token. */
  vocab: string[];
  maxLength: number;
  padding: 'pre' | 'post';
  truncating: 'pre' | 'post';
}

/** One split's file: `x` then `y`, little-endian, no header. */
export interface SplitMeta {
  n: number;
  xShape: number[];
  xDtype: 'float32' | 'int32';
  /** File name inside the dataset folder. */
  file: string;
  /** Values of `y` per sample: the number of targets (absent: 1). */
  yWidth?: number;
  /** The file holds n int32 source row numbers after `y`. */
  sourceRows?: boolean;
  /** A JSON file with the id of each sample. */
  idsFile?: string;
  /** A JSON file with the fold of each sample (cross-validated train split). */
  foldsFile?: string;
  /** A JSON file with the kept raw values of each sample, by column (`DatasetMeta.kept`). */
  keptFile?: string;
}

/**
 * One input of a multi-input dataset (`inputKind: 'multi'`): a slice of `width` values of each
 * float32 row of `x`, in `meta.inputs` order. `tabular` is the encoded `meta.features`
 * (`meta.featureNames`); `text` holds token ids (exact in float32) of one text column.
 */
export interface InputBlock {
  /** `features` for the tabular block, the column name for a text block; model.inputs keys name these. */
  name: string;
  kind: 'tabular' | 'text';
  width: number;
  text?: TextMeta;
}

/** One target of a multi-target dataset: what `task`, `labels`, `classCounts` and `targetScaling` say for a single one. */
export interface TargetMeta {
  name: string;
  task: Task;
  labels?: string[];
  classCounts?: Record<string, number>;
  targetScaling?: { normalize: 'zscore' | 'minmax' | 'none'; stats: ColumnStats };
}

/** `meta.json` of a dataset folder: everything needed to read the tensors and to score raw input the same way. */
export interface DatasetMeta {
  schemaVersion: 1;
  task: Task;
  /** The label column. */
  target: string;
  /** Class index → original label (classification only). */
  labels?: string[];
  inputKind: 'tabular' | 'text' | 'image' | 'multi';
  /** inputKind `multi` (several text columns, or text with tabular columns): the blocks of each row, in order. */
  inputs?: InputBlock[];
  /**
   * Several targets (preprocess `target: [a, b, …]`), each with its own task and labels; `y` has
   * one column per target. `task` and `target` then repeat the first entry's.
   */
  targets?: TargetMeta[];
  /** Tabular inputs, in model column order. Empty for text. */
  features: FeatureMeta[];
  text?: TextMeta;
  /** Image datasets: the column of image paths and how each image became a [height, width, channels] input. */
  image?: ImageOptions;
  /** Model input column names after encoding (tabular), e.g. `species=setosa`. */
  featureNames: string[];
  splits: Record<string, SplitMeta>;
  /** Rows per label over all kept rows (classification only). */
  classCounts?: Record<string, number>;
  source: { file: string; rows: number; dropped: number };
  /**
   * Regression: how the target is scaled for training (`normalize` of the target column, statistics of
   * the train split). The stored `y` stays in the original units; train scales it and the model
   * unscales its output.
   */
  targetScaling?: { normalize: 'zscore' | 'minmax' | 'none'; stats: ColumnStats };
  /** The column named by preprocess `id`: its values are kept per split (`<split>.ids.json`) and written beside predictions. */
  id?: string;
  /** How raw cells are read (missing markers, number format); absent in datasets written before it was recorded (the default then). */
  format?: CellFormatMeta;
  /** Cross-validation (preprocess `split.kfold`, `group` or `column`): the train split's rows are cut into `k` folds; there is no validation split. */
  cv?: CvMeta;
  /** The columns named by preprocess `keep`: their raw values ride along per split (`<split>.kept.json`), e.g. for evaluate `slices`; not features unless also listed as such. */
  kept?: string[];
}

/** How a dataset's train split is cut into folds; train fits one model per fold and reports the mean and spread of each metric. */
export interface CvMeta {
  k: number;
  strategy: 'kfold' | 'stratified' | 'group' | 'column';
  /** Rows per fold. */
  sizes: number[];
  /** `group`: the column whose values never share a fold (nor the test split). `column`: the column naming each row's fold. */
  column?: string;
  /** `column`: the fold values, in fold order. */
  names?: string[];
}

/** A dataset in memory: its meta and the splits that were read. */
export interface Dataset {
  meta: DatasetMeta;
  splits: Partial<Record<SplitName, SplitData>>;
}

const META_FILE = 'meta.json';
const littleEndian = endianness() === 'LE';

/** Writes `meta.json` (sorted keys) and one `<split>.bin` per split present in `ds.splits`; `meta.splits` is derived from them. */
export async function writeDataset(dir: string, ds: Dataset): Promise<void> {
  await mkdir(dir, { recursive: true });
  const splits: Record<string, SplitMeta> = {};
  for (const name of SPLIT_NAMES) {
    const split = ds.splits[name];
    if (!split) continue;
    checkSplit(name, split);
    const writer = await openSplitWriter(dir, name, split.xShape, split.x instanceof Int32Array ? 'int32' : 'float32');
    await writer.append(split.x);
    splits[name] = await writer.finish(split.y, { sourceRows: split.sourceRows, ids: split.ids, folds: split.folds, kept: split.kept });
  }
  await writeDatasetMeta(dir, ds.meta, splits);
}

/** Writes `meta.json` of a dataset whose split files are written: `splits` replaces `meta.splits`. */
export async function writeDatasetMeta(dir: string, meta: DatasetMeta, splits: Record<string, SplitMeta>): Promise<void> {
  await writeFile(join(dir, META_FILE), `${stableStringify({ ...meta, schemaVersion: 1, splits })}\n`);
}

/** What a split holds beside `x` and `y`, each optional: see {@link SplitData}. */
export type SplitExtras = Pick<SplitData, 'sourceRows' | 'ids' | 'folds' | 'kept'>;

/** Writes one split file in pieces: `x` rows appended batch by batch, then `y` and the extras (source rows, ids, folds, kept values) with `finish`. */
export interface SplitWriter {
  append(x: Float32Array | Int32Array): Promise<void>;
  finish(y: Float32Array, extras?: SplitExtras): Promise<SplitMeta>;
}

/** A SplitWriter for split `name` of shape `xShape` (rows first) in `dir`; the bytes equal writeDataset's for the same split. */
export async function openSplitWriter(dir: string, name: SplitName, xShape: readonly number[], xDtype: 'float32' | 'int32'): Promise<SplitWriter> {
  const file = `${name}.bin`;
  const handle = await open(join(dir, file), 'w');
  const n = xShape[0]!;
  let written = 0;
  const expected = xShape.reduce((a, b) => a * b, 1);
  return {
    append: async (x) => {
      written += x.length;
      await handle.write(toBytes(x));
    },
    finish: async (y, { sourceRows, ids, folds, kept } = {}) => {
      try {
        if (written !== expected) throw new RangeError(`split ${name}: ${written} x values written, expected ${expected} for shape [${xShape.join(', ')}]`);
        const meta: SplitMeta = { n, xShape: [...xShape], xDtype, file };
        if (n > 0 && y.length !== n) meta.yWidth = y.length / n;
        await handle.write(toBytes(y));
        if (sourceRows) {
          meta.sourceRows = true;
          await handle.write(toBytes(sourceRows));
        }
        if (ids) {
          meta.idsFile = `${name}.ids.json`;
          await writeFile(join(dir, meta.idsFile), `${JSON.stringify(ids)}\n`);
        }
        if (folds) {
          meta.foldsFile = `${name}.folds.json`;
          await writeFile(join(dir, meta.foldsFile), `${JSON.stringify([...folds])}\n`);
        }
        if (kept) {
          const wrong = Object.entries(kept).find(([, values]) => values.length !== n);
          if (wrong) throw new RangeError(`split ${name}: kept column "${wrong[0]}" has ${wrong[1].length} values for ${n} rows`);
          meta.keptFile = `${name}.kept.json`;
          await writeFile(join(dir, meta.keptFile), `${JSON.stringify(Object.fromEntries(Object.keys(kept).sort().map((k) => [k, kept[k]])))}\n`);
        }
        return meta;
      } finally {
        await handle.close();
      }
    },
  };
}

/** Reads `meta.json` and the requested splits (default: all listed in meta). A missing or wrongly sized file is a DatasetCorruptError. */
export async function readDataset(dir: string, splits?: string[]): Promise<Dataset> {
  const meta = await readMeta(dir);
  const wanted = splits ?? Object.keys(meta.splits);
  const out: Partial<Record<SplitName, SplitData>> = {};
  for (const name of wanted) {
    const sm = meta.splits[name];
    if (!sm) throw new DatasetCorruptError(dir, `it has no "${name}" split (it has: ${Object.keys(meta.splits).join(', ') || 'none'})`);
    out[name as SplitName] = await readSplit(dir, name, sm);
  }
  return { meta, splits: out };
}

/** Reads and checks `meta.json` only. */
export async function readMeta(dir: string): Promise<DatasetMeta> {
  let text: string;
  try {
    text = await readFile(join(dir, META_FILE), 'utf8');
  } catch (cause) {
    throw new DatasetCorruptError(dir, `cannot read ${META_FILE}`, { cause });
  }
  let meta: DatasetMeta;
  try {
    meta = JSON.parse(text) as DatasetMeta;
  } catch (cause) {
    throw new DatasetCorruptError(dir, `${META_FILE} is not valid JSON`, { cause });
  }
  if (meta?.schemaVersion !== 1) {
    throw new DatasetCorruptError(dir, `${META_FILE} has schemaVersion ${String(meta?.schemaVersion)}, expected 1`);
  }
  return meta;
}

async function readSplit(dir: string, name: string, sm: SplitMeta): Promise<SplitData> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, sm.file));
  } catch (cause) {
    throw new DatasetCorruptError(dir, `cannot read the ${name} split file ${sm.file}`, { cause });
  }
  const xLen = sm.xShape.reduce((a, b) => a * b, 1);
  const yLen = sm.n * (sm.yWidth ?? 1);
  const expected = (xLen + yLen + (sm.sourceRows ? sm.n : 0)) * 4;
  if (buf.byteLength !== expected || sm.xShape[0] !== sm.n) {
    throw new DatasetCorruptError(dir, `${sm.file} holds ${buf.byteLength} bytes, expected ${expected} for shape [${sm.xShape.join(', ')}]`);
  }
  const x = sm.xDtype === 'int32' ? fromBytes(buf, 0, xLen, Int32Array) : fromBytes(buf, 0, xLen, Float32Array);
  const y = fromBytes(buf, xLen * 4, yLen, Float32Array);
  const out: SplitData = { n: sm.n, x, xShape: [...sm.xShape], y };
  if (sm.sourceRows) out.sourceRows = fromBytes(buf, (xLen + yLen) * 4, sm.n, Int32Array);
  if (sm.idsFile) {
    try {
      out.ids = JSON.parse(await readFile(join(dir, sm.idsFile), 'utf8')) as string[];
    } catch (cause) {
      throw new DatasetCorruptError(dir, `cannot read the ${name} ids file ${sm.idsFile}`, { cause });
    }
  }
  if (sm.foldsFile) out.folds = await readFolds(dir, sm.foldsFile, sm.n);
  if (sm.keptFile) out.kept = await readKept(dir, sm.keptFile, sm.n);
  return out;
}

async function readKept(dir: string, file: string, n: number): Promise<Record<string, string[]>> {
  let kept: unknown;
  try {
    kept = JSON.parse(await readFile(join(dir, file), 'utf8'));
  } catch (cause) {
    throw new DatasetCorruptError(dir, `cannot read the kept values file ${file}`, { cause });
  }
  const ok = typeof kept === 'object' && kept !== null && !Array.isArray(kept) && Object.values(kept).every((v) => Array.isArray(v) && v.length === n && v.every((s) => typeof s === 'string'));
  if (!ok) throw new DatasetCorruptError(dir, `${file} does not hold one string per row (${n}) for each kept column`);
  return kept as Record<string, string[]>;
}

async function readFolds(dir: string, file: string, n: number): Promise<Int32Array> {
  let folds: unknown;
  try {
    folds = JSON.parse(await readFile(join(dir, file), 'utf8'));
  } catch (cause) {
    throw new DatasetCorruptError(dir, `cannot read the folds file ${file}`, { cause });
  }
  if (!Array.isArray(folds) || folds.length !== n || !folds.every((v) => Number.isInteger(v) && v >= 0)) throw new DatasetCorruptError(dir, `${file} does not hold one fold number per row (${n})`);
  return Int32Array.from(folds as number[]);
}

function checkSplit(name: string, s: SplitData): void {
  const xLen = s.xShape.reduce((a, b) => a * b, 1);
  if (s.xShape[0] !== s.n || s.x.length !== xLen || (s.n === 0 ? s.y.length !== 0 : s.y.length % s.n !== 0)) {
    throw new RangeError(`split ${name}: n=${s.n}, xShape=[${s.xShape.join(', ')}], x.length=${s.x.length}, y.length=${s.y.length} do not agree`);
  }
}

function toBytes(a: Float32Array | Int32Array): Buffer {
  if (littleEndian) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.alloc(a.byteLength);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Int32Array) out.writeInt32LE(a[i]!, i * 4);
    else out.writeFloatLE(a[i]!, i * 4);
  }
  return out;
}

function fromBytes<T extends Float32Array | Int32Array>(
  buf: Buffer,
  byteOffset: number,
  length: number,
  Ctor: { new (n: number): T; new (b: ArrayBuffer, o: number, n: number): T },
): T {
  const out = new Ctor(length);
  if (littleEndian) {
    new Uint8Array(out.buffer).set(buf.subarray(byteOffset, byteOffset + length * 4));
    return out;
  }
  const isInt = (out as Float32Array | Int32Array) instanceof Int32Array;
  for (let i = 0; i < length; i++) out[i] = isInt ? buf.readInt32LE(byteOffset + i * 4) : buf.readFloatLE(byteOffset + i * 4);
  return out;
}

/** JSON with object keys sorted recursively, two-space indented: the same value always gives the same bytes. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
