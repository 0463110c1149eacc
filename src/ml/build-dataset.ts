import type { CellFormatMeta, Dataset, DatasetMeta, FeatureMeta, SplitData, SplitName, Task, TextMeta } from './dataset.js';
import {
  categoryOf,
  cellFormatOf,
  encodeFeature,
  featureColumnNames,
  featureEncoder,
  computeStats,
  fitFeature,
  inferColumnType,
  inferTask,
  isMissing,
  numberOrThrow,
  parseNumber,
  sortCategories,
  type CellFormat,
  type ColumnType,
  type MissingStrategy,
} from './columns.js';
import { idLikeReason } from './column-checks.js';
import { DEFAULT_DATE_PARTS, type DatePart } from './dates.js';
import type { ImageOptions } from './images.js';
import { DataError, type DataLocation } from './errors.js';
import { dedupeRows, splitRows } from './split.js';
import type { Table } from './read-table.js';
import { buildVocab, encodeTokens, tokenize, vocabIndex, type TokenizerName } from './tokenize.js';

/** A per-column override; unset fields fall back to the type inferred and the global settings. */
export interface ColumnOverride {
  type?: ColumnType;
  /** date columns: the parts they expand into. */
  parts?: DatePart[];
  encoding?: 'onehot' | 'ordinal';
  normalize?: 'zscore' | 'minmax' | 'none';
}

/** Text settings: the column, tokenizer and fixed sequence length. `vocabSize` counts `<pad>` and the OOV token. */
export interface TextOptions {
  column: string;
  tokenizer: TokenizerName;
  lowercase: boolean;
  vocabSize: number;
  maxLength: number;
  oovToken: string;
  padding: 'pre' | 'post';
  truncating: 'pre' | 'post';
}

/** Everything `buildDataset` needs besides the table; the preprocess stage maps its config onto this. */
export interface BuildOptions {
  target: string;
  task: Task | 'auto';
  /** Columns to use as input; default: all but the target and `exclude`. */
  features?: string[];
  /** Columns left out of the default features. */
  exclude?: string[];
  /** A column identifying rows: never a feature, kept per split beside the source row numbers. */
  id?: string;
  columns: Record<string, ColumnOverride>;
  missing: MissingStrategy;
  encoding: 'onehot' | 'ordinal';
  normalize: 'zscore' | 'minmax' | 'none';
  /** When set, the model input is this one text column as token ids. */
  text?: TextOptions;
  /** When set, the model input is this one image column, its cells already decoded to [height · width · channels] pixels in [0, 1]. */
  image?: ImageOptions;
  split: { test: number; validation: number; seed: number; stratify: boolean };
  shuffle: boolean;
  dedupe: boolean;
  /** Missing-value markers and number format of the cells. */
  format: CellFormatMeta;
}

/** Row counts of one build, for logs and stage metrics. */
export interface BuildReport {
  rowsRead: number;
  droppedMissing: number;
  duplicates: number;
  rows: number;
  splits: Record<SplitName, number>;
  /** Things that may not be what the user meant, each naming the column (logged as `warning: …`). */
  warnings: string[];
}

/**
 * Turns a raw table into a dataset: picks and types the columns, drops or fills missing values,
 * removes duplicates, encodes the target, splits (stratified for classification), fits fill values,
 * statistics, categories and the vocabulary on the train split only, and encodes every split.
 * `sourceName` is recorded in the meta (keep it relative, so the meta does not depend on the machine).
 */
export function buildDataset(table: Table, o: BuildOptions, sourceName: string): { dataset: Dataset; report: BuildReport } {
  const col = columnIndex(table);
  const fmt = cellFormatOf(o.format);
  const loc = (i: number): DataLocation => ({ file: table.file, line: table.lines[i], row: i + 1 });
  const ti = requireColumn(table, col, o.target, 'target');
  for (const name of Object.keys(o.columns)) requireColumn(table, col, name, `columns.${name}`);
  checkTargetOverride(table, o);
  if (o.text && o.features) {
    throw new DataError('`features` and `text` were both set, but a text dataset\'s only input is its text column', {
      hint: 'remove `features`, or remove `text` for a tabular dataset',
    });
  }
  const warnings: string[] = [];
  if (o.image && (o.text || o.features)) throw new DataError('`image` was set with `text` or `features`, but an image dataset\'s only input is its image column', { hint: 'remove `text`/`features`' });
  const inputs = o.text ? [textColumn(table, col, o)] : o.image ? [{ name: o.image.column, index: requireColumn(table, col, o.image.column, 'image.column'), type: 'array' as const }] : featureColumns(table, col, o, fmt, warnings);
  for (const name of Object.keys(o.columns)) {
    if (name === o.target || inputs.some((c) => c.name === name) || o.columns[name]!.type === 'ignore') continue;
    throw new DataError(`columns.${name} has no effect: "${name}" is not a model input`, {
      file: table.file,
      hint: o.text ? 'a text dataset\'s only input is its text column' : `add "${name}" to \`features\`, or remove the override`,
    });
  }

  let keep: number[] = [];
  let droppedMissing = 0;
  for (let i = 0; i < table.rows.length; i++) {
    const row = table.rows[i]!;
    const missing = isMissing(row[ti], fmt) || (o.missing.kind === 'drop' && inputs.some((c) => isMissingInput(row[c.index], c.type, fmt)));
    if (missing) droppedMissing++;
    else keep.push(i);
  }
  let duplicates = 0;
  if (o.dedupe) {
    const keys = keep.map((i) => JSON.stringify([ti, ...inputs.map((c) => c.index)].map((c) => categoryOf(table.rows[i]![c] ?? null, fmt))));
    const unique = dedupeRows(keys).map((k) => keep[k]!);
    duplicates = keep.length - unique.length;
    keep = unique;
  }
  if (keep.length === 0) {
    throw new DataError(`has no usable rows: ${table.rows.length} read, ${droppedMissing} dropped for missing values`, {
      file: table.file,
      hint: 'fill missing values instead (missing: { fill: mean }) or fix the data',
    });
  }

  const targetValues = keep.map((i) => table.rows[i]![ti]);
  const task = o.task === 'auto' ? inferTask(targetValues, fmt) : o.task;
  if (o.task === 'auto' && task === 'regression') {
    const distinct = new Set(targetValues.map((v) => categoryOf(v, fmt)));
    if ([...distinct].every((v) => Number.isInteger(Number(v)))) {
      warnings.push(`target "${o.target}" holds ${distinct.size} distinct integers: treated as regression (more than 10 values); set task: multiclass if they are class codes`);
    }
  }
  const { y, labels } = encodeTarget(table, o.target, task, keep, ti, loc, fmt);

  const strata = task !== 'regression' && o.split.stratify ? Array.from(y) : undefined;
  const parts = splitRows(keep.length, { ...o.split, shuffle: o.shuffle, strata });
  if (parts.train.length === 0) {
    throw new DataError(`leaves no training rows: ${keep.length} rows, test ${o.split.test}, validation ${o.split.validation}`, {
      file: table.file,
      hint: 'lower split.test and split.validation, or add rows',
    });
  }

  const meta: DatasetMeta = {
    schemaVersion: 1,
    task,
    target: o.target,
    inputKind: o.text ? 'text' : o.image ? 'image' : 'tabular',
    ...(o.image ? { image: o.image } : {}),
    features: [],
    featureNames: [],
    splits: {},
    source: { file: sourceName, rows: table.rows.length, dropped: table.rows.length - keep.length },
    format: o.format,
    ...(o.id === undefined ? {} : { id: o.id }),
  };
  if (task === 'regression') {
    const override = o.columns[o.target];
    meta.targetScaling = { normalize: override?.normalize ?? o.normalize, stats: computeStats(Array.from(parts.train, (k) => y[k]!)) };
  }
  if (labels) {
    meta.labels = labels;
    meta.classCounts = Object.fromEntries(labels.map((l) => [l, 0]));
    for (const v of y) meta.classCounts[labels[v]!]!++;
  }

  const splits: Partial<Record<SplitName, SplitData>> = {};
  const rowsOf = (part: number[]) => part.map((k) => keep[k]!);
  const idIndex = o.id === undefined ? undefined : requireColumn(table, col, o.id, 'id');
  const provenance = (part: number[]): Pick<SplitData, 'sourceRows' | 'ids'> => {
    const rows = rowsOf(part);
    return {
      sourceRows: Int32Array.from(rows, (i) => i + 1),
      ...(idIndex === undefined ? {} : { ids: rows.map((i) => String(table.rows[i]![idIndex] ?? '')) }),
    };
  };
  if (o.text) {
    const c = inputs[0]!;
    const fill = o.missing.kind === 'fill' && o.missing.fill === 'constant' ? String(o.missing.value ?? '') : '';
    const tokensOf = (i: number) => {
      const raw = table.rows[i]![c.index];
      return tokenize(isMissingInput(raw, 'text', fmt) ? fill : String(raw), o.text!.tokenizer, o.text!.lowercase);
    };
    const trainTokens = rowsOf(parts.train).map(tokensOf);
    const vocab = buildVocab(trainTokens, o.text.vocabSize, o.text.oovToken);
    const textMeta: TextMeta = {
      column: c.name,
      tokenizer: o.text.tokenizer,
      lowercase: o.text.lowercase,
      vocab,
      maxLength: o.text.maxLength,
      padding: o.text.padding,
      truncating: o.text.truncating,
    };
    meta.text = textMeta;
    const index = vocabIndex(vocab);
    for (const name of ['train', 'validation', 'test'] as const) {
      const part = parts[name];
      if (part.length === 0) continue;
      const x = new Int32Array(part.length * textMeta.maxLength);
      const tokens = name === 'train' ? trainTokens : rowsOf(part).map(tokensOf);
      tokens.forEach((t, r) => encodeTokens(t, index, textMeta, x, r * textMeta.maxLength));
      splits[name] = { n: part.length, x, xShape: [part.length, textMeta.maxLength], y: pick(y, part), ...provenance(part) };
    }
  } else {
    const trainRows = rowsOf(parts.train);
    const features: FeatureMeta[] = inputs.map((c) =>
      fitFeature(
        c.name,
        trainRows.map((i) => table.rows[i]![c.index]),
        {
          type: c.type as 'numeric' | 'categorical' | 'date' | 'array',
          parts: o.columns[c.name]?.parts,
          normalize: o.columns[c.name]?.normalize ?? (o.image ? 'none' : o.normalize),
          encoding: o.columns[c.name]?.encoding ?? o.encoding,
          missing: o.missing,
          format: fmt,
        },
        (k) => loc(trainRows[k]!),
      ),
    );
    meta.features = features;
    meta.featureNames = features.flatMap(featureColumnNames);
    const encoders = features.map((fm) => featureEncoder(fm, fmt));
    const width = meta.featureNames.length;
    for (const name of ['train', 'validation', 'test'] as const) {
      const part = parts[name];
      if (part.length === 0) continue;
      const x = new Float32Array(part.length * width);
      rowsOf(part).forEach((i, r) => {
        let offset = r * width;
        const where = loc(i);
        encoders.forEach((enc, f) => {
          encodeFeature(enc, table.rows[i]![inputs[f]!.index], x, offset, where);
          offset += enc.width;
        });
      });
      const xShape = o.image ? [part.length, o.image.height, o.image.width, o.image.channels] : [part.length, width];
      splits[name] = { n: part.length, x, xShape, y: pick(y, part), ...provenance(part) };
    }
  }
  return {
    dataset: { meta, splits },
    report: {
      rowsRead: table.rows.length,
      droppedMissing,
      duplicates,
      rows: keep.length,
      splits: { train: parts.train.length, validation: parts.validation.length, test: parts.test.length },
      warnings,
    },
  };
}

interface InputColumn {
  name: string;
  index: number;
  type: Exclude<ColumnType, 'ignore'>;
}

function columnIndex(table: Table): Map<string, number> {
  return new Map(table.columns.map((c, i) => [c, i]));
}

function requireColumn(table: Table, col: Map<string, number>, name: string, option: string): number {
  const i = col.get(name);
  if (i === undefined) {
    throw new DataError(`has no column "${name}" (named by ${option})`, {
      file: table.file,
      hint: `the columns are: ${table.columns.join(', ')}`,
    });
  }
  return i;
}

/** `columns.<target>` may only say how a regression target is scaled; anything else would be silently ignored. */
function checkTargetOverride(table: Table, o: BuildOptions): void {
  const override = o.columns[o.target];
  if (!override) return;
  const useless = Object.keys(override).filter((k) => k !== 'normalize');
  if (useless.length > 0) {
    throw new DataError(`columns.${o.target}.${useless[0]} has no effect: "${o.target}" is the target`, {
      file: table.file,
      hint: 'a target override may set only `normalize` (the scaling of a regression target); the task is set with `task`',
    });
  }
}

function textColumn(table: Table, col: Map<string, number>, o: BuildOptions): InputColumn {
  const name = o.text!.column;
  const index = requireColumn(table, col, name, 'text.column');
  if (name === o.target) throw new DataError(`uses "${name}" as both target and text column`, { file: table.file });
  return { name, index, type: 'text' };
}

function featureColumns(table: Table, col: Map<string, number>, o: BuildOptions, fmt: CellFormat, warnings: string[]): InputColumn[] {
  for (const name of o.exclude ?? []) requireColumn(table, col, name, 'exclude');
  if (o.features && o.exclude) throw new DataError('`features` and `exclude` were both set', { hint: 'list the inputs in `features`, or leave it out and name the columns to drop in `exclude`' });
  const excluded = new Set([...(o.exclude ?? []), ...(o.id === undefined ? [] : [o.id])]);
  const names = o.features ?? table.columns.filter((c) => c !== o.target && !excluded.has(c));
  const out: InputColumn[] = [];
  for (const name of names) {
    const index = requireColumn(table, col, name, 'features');
    if (name === o.target) {
      throw new DataError(`lists the target "${name}" among the features`, { file: table.file, hint: 'remove it from `features`' });
    }
    const declared = o.columns[name]?.type;
    if (declared === 'ignore') continue;
    const values = table.rows.map((r) => r[index]);
    const inferred = inferColumnType(values, fmt);
    const type = declared ?? inferred.type;
    if (type === 'text') {
      throw new DataError(`column "${name}" holds free text, which a tabular model cannot take`, {
        file: table.file,
        hint: `set text: { column: ${name} } to train on the text, or columns: { ${name}: { type: ignore } } to leave it out`,
      });
    }
    if (type === 'numeric') {
      const bad = values.findIndex((v) => !isMissing(v, fmt) && parseNumber(v, fmt) === undefined);
      if (bad >= 0) numberOrThrow(values[bad], { file: table.file, line: table.lines[bad], row: bad + 1, column: name }, fmt);
    }
    const reason = type === 'numeric' || type === 'categorical' ? idLikeReason(name, values, type, fmt) : undefined;
    if (reason) {
      if (o.features || declared) warnings.push(`column "${name}" looks like an identifier (${reason}), used as a feature because it was named; a model can memorize rows by it`);
      else {
        warnings.push(`column "${name}" looks like an identifier (${reason}): left out of the features; list it in \`features\` or declare its type in \`columns\` to use it`);
        continue;
      }
    }
    if (type === 'date' && !declared) warnings.push(`column "${name}" holds dates: expanded into ${(o.columns[name]?.parts ?? DEFAULT_DATE_PARTS).join(', ')} (columns.${name}.parts to choose)`);
    out.push({ name, index, type });
  }
  if (out.length === 0) {
    throw new DataError('leaves no input columns', { file: table.file, hint: `list them in \`features\`, or set \`text\` for a text column${warnings.length ? ` (${warnings.join('; ')})` : ''}` });
  }
  return out;
}

function isMissingInput(v: unknown, type: InputColumn['type'], fmt: CellFormat): boolean {
  if (type === 'text') return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
  return isMissing(v, fmt);
}

function encodeTarget(
  table: Table,
  target: string,
  task: Task,
  keep: number[],
  ti: number,
  loc: (i: number) => DataLocation,
  fmt: CellFormat,
): { y: Float32Array; labels?: string[] } {
  const y = new Float32Array(keep.length);
  if (task === 'regression') {
    keep.forEach((i, r) => {
      y[r] = numberOrThrow(table.rows[i]![ti], { ...loc(i), column: target }, fmt);
    });
    return { y };
  }
  const values = keep.map((i) => categoryOf(table.rows[i]![ti], fmt));
  const labels = sortCategories(values);
  if (labels.length < 2) {
    throw new DataError(`target "${target}" has a single class (${JSON.stringify(labels[0])}) in ${keep.length} rows`, {
      file: table.file,
      hint: 'a classifier needs at least two classes: check the target column and the rows dropped for missing values',
    });
  }
  if (task === 'binary' && labels.length > 2) {
    throw new DataError(`target "${target}" has ${labels.length} classes, but the task is binary`, {
      file: table.file,
      hint: 'set task: multiclass (or auto)',
    });
  }
  const code = new Map(labels.map((l, k) => [l, k]));
  values.forEach((v, r) => {
    y[r] = code.get(v)!;
  });
  return { y, labels };
}

function pick(y: Float32Array, part: number[]): Float32Array {
  const out = new Float32Array(part.length);
  part.forEach((k, r) => {
    out[r] = y[k]!;
  });
  return out;
}
