import type { CellFormatMeta, CvMeta, Dataset, DatasetMeta, FeatureMeta, SplitData, SplitName, Task, TextMeta } from './dataset.js';
import {
  categoryOf,
  cellFormatOf,
  encodeFeature,
  featureColumnNames,
  featureEncoder,
  fitFeature,
  inferColumnType,
  isMissing,
  keptValue,
  numberOrThrow,
  parseNumber,
  type CellFormat,
  type ColumnType,
  type MissingStrategy,
} from './columns.js';
import { idLikeReason } from './column-checks.js';
import { DEFAULT_DATE_PARTS, type DatePart } from './dates.js';
import type { ImageOptions } from './images.js';
import { DataError, type DataLocation } from './errors.js';
import { combinedStrata, encodeTargetColumn, pickTargets, targetMetaOf } from './targets.js';
import { dedupeRows, splitRows } from './split.js';
import { foldSizes, splitFolds, type CvSplit } from './kfold.js';
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
  /** The label column, or several (one model output each). */
  target: string | string[];
  task: Task | 'auto';
  /** Columns to use as (tabular) input; default: all but the targets and `exclude`, or none when `text` is set. */
  features?: string[];
  /** Columns left out of the default features. */
  exclude?: string[];
  /** A column identifying rows: never a feature, kept per split beside the source row numbers. */
  id?: string;
  /** Columns whose raw values are carried into every split (`DatasetMeta.kept`), whether or not they are features. */
  keep?: string[];
  columns: Record<string, ColumnOverride>;
  missing: MissingStrategy;
  encoding: 'onehot' | 'ordinal';
  normalize: 'zscore' | 'minmax' | 'none';
  /** Text columns as token ids: one (the only input unless `features` is set too), or several (a multi-input dataset). */
  text?: TextOptions | TextOptions[];
  /** When set, the model input is this one image column, its cells already decoded to [height · width · channels] pixels in [0, 1]. */
  image?: ImageOptions;
  split: { test: number; validation: number; seed: number; stratify: boolean; kfold?: number; group?: string; column?: string };
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
 * removes duplicates, encodes the target(s), splits (stratified for classification), fits fill values,
 * statistics, categories and the vocabularies on the train split only, and encodes every split.
 * Several targets give `meta.targets` and one `y` column each; several text columns, or text with
 * `features`, give a multi-input dataset (`meta.inputs`: tabular block first, then each text).
 * `sourceName` is recorded in the meta (keep it relative, so the meta does not depend on the machine).
 */
export function buildDataset(table: Table, o: BuildOptions, sourceName: string): { dataset: Dataset; report: BuildReport } {
  const col = columnIndex(table);
  const fmt = cellFormatOf(o.format);
  const loc = (i: number): DataLocation => ({ file: table.file, line: table.lines[i], row: i + 1 });
  const targetNames = Array.isArray(o.target) ? o.target : [o.target];
  const targetIndexes = targetNames.map((t) => requireColumn(table, col, t, 'target'));
  const repeated = targetNames.find((t, i) => targetNames.indexOf(t) !== i);
  if (repeated !== undefined) throw new DataError(`target lists "${repeated}" twice`, { file: table.file, hint: 'name each target column once' });
  for (const name of Object.keys(o.columns)) requireColumn(table, col, name, `columns.${name}`);
  const keptIndexes = (o.keep ?? []).map((name, k) => [name, requireColumn(table, col, name, `keep[${k}]`, ['keep', k])] as const);
  for (const t of targetNames) checkTargetOverride(table, o, t);
  const texts = o.text === undefined ? [] : Array.isArray(o.text) ? o.text : [o.text];
  const warnings: string[] = [];
  if (o.image && (texts.length > 0 || o.features)) throw new DataError('`image` was set with `text` or `features`, but an image dataset\'s only input is its image column', { hint: 'remove `text`/`features`' });
  const textInputs = texts.map((t, k) => textColumn(table, col, targetNames, t, texts.length > 1 ? `text[${k}].column` : 'text.column'));
  const repeatedText = textInputs.find((t, i) => textInputs.findIndex((u) => u.name === t.name) !== i);
  if (repeatedText) throw new DataError(`text names the column "${repeatedText.name}" twice`, { file: table.file, hint: 'list each text column once' });
  const tabular = o.image
    ? [{ name: o.image.column, index: requireColumn(table, col, o.image.column, 'image.column'), type: 'array' as const }]
    : texts.length === 0 || o.features
      ? featureColumns(table, col, o, targetNames, new Set(textInputs.map((t) => t.name)), fmt, warnings)
      : [];
  const multiInput = texts.length > 1 || (texts.length === 1 && tabular.length > 0);
  const inputs = [...tabular, ...textInputs];
  for (const name of Object.keys(o.columns)) {
    if (targetNames.includes(name) || tabular.some((c) => c.name === name) || o.columns[name]!.type === 'ignore') continue;
    throw new DataError(`columns.${name} has no effect: "${name}" is not a ${textInputs.some((t) => t.name === name) ? 'tabular ' : ''}model input`, {
      file: table.file,
      hint: texts.length > 0 && !o.features ? 'a text dataset\'s inputs are its text columns (list tabular inputs in `features`)' : `add "${name}" to \`features\`, or remove the override`,
    });
  }

  let keep: number[] = [];
  let droppedMissing = 0;
  for (let i = 0; i < table.rows.length; i++) {
    const row = table.rows[i]!;
    const missing = targetIndexes.some((ti) => isMissing(row[ti], fmt)) || (o.missing.kind === 'drop' && inputs.some((c) => isMissingInput(row[c.index], c.type, fmt)));
    if (missing) droppedMissing++;
    else keep.push(i);
  }
  let duplicates = 0;
  if (o.dedupe) {
    const keys = keep.map((i) => JSON.stringify([...targetIndexes, ...inputs.map((c) => c.index)].map((c) => categoryOf(table.rows[i]![c] ?? null, fmt))));
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

  const targets = targetNames.map((t, k) => encodeTargetColumn(table, t, targetIndexes[k]!, o.task, keep, loc, fmt, warnings));
  const strata = o.split.stratify ? combinedStrata(targets, keep.length) : undefined;
  const cv = cvSplitOf(table, col, o, keep, strata, fmt);
  const parts = cv?.parts ?? splitRows(keep.length, { ...o.split, shuffle: o.shuffle, strata });
  if (parts.train.length === 0) {
    throw new DataError(`leaves no training rows: ${keep.length} rows, test ${o.split.test}, validation ${o.split.validation}`, {
      file: table.file,
      hint: 'lower split.test and split.validation, or add rows',
    });
  }

  const first = targets[0]!;
  const meta: DatasetMeta = {
    schemaVersion: 1,
    task: first.task,
    target: first.name,
    inputKind: multiInput ? 'multi' : texts.length > 0 ? 'text' : o.image ? 'image' : 'tabular',
    ...(o.image ? { image: o.image } : {}),
    features: [],
    featureNames: [],
    splits: {},
    source: { file: sourceName, rows: table.rows.length, dropped: table.rows.length - keep.length },
    format: o.format,
    ...(o.id === undefined ? {} : { id: o.id }),
    ...(cv ? { cv: cvMetaOf(cv, o.split) } : {}),
    ...(o.keep?.length ? { kept: o.keep } : {}),
  };
  const targetMetas = targets.map((t) => targetMetaOf(t, parts.train, o.columns[t.name]?.normalize ?? o.normalize));
  if (targets.length > 1) meta.targets = targetMetas;
  else {
    const t = targetMetas[0]!;
    if (t.targetScaling) meta.targetScaling = t.targetScaling;
    if (t.labels) Object.assign(meta, { labels: t.labels, classCounts: t.classCounts });
  }

  const rowsOf = (part: number[]) => part.map((k) => keep[k]!);
  const idIndex = o.id === undefined ? undefined : requireColumn(table, col, o.id, 'id');
  const provenance = (part: number[]): Pick<SplitData, 'sourceRows' | 'ids' | 'kept'> => {
    const rows = rowsOf(part);
    return {
      sourceRows: Int32Array.from(rows, (i) => i + 1),
      ...(idIndex === undefined ? {} : { ids: rows.map((i) => String(table.rows[i]![idIndex] ?? '')) }),
      ...(keptIndexes.length === 0 ? {} : { kept: Object.fromEntries(keptIndexes.map(([name, index]) => [name, rows.map((i) => keptValue(table.rows[i]![index], fmt))])) }),
    };
  };

  const trainRows = rowsOf(parts.train);
  const features: FeatureMeta[] = tabular.map((c) =>
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
  const tabularWidth = meta.featureNames.length;
  const fill = o.missing.kind === 'fill' && o.missing.fill === 'constant' ? String(o.missing.value ?? '') : '';
  const textBlocks = textInputs.map((c, k) => {
    const t = texts[k]!;
    const tokensOf = (i: number) => {
      const raw = table.rows[i]![c.index];
      return tokenize(isMissingInput(raw, 'text', fmt) ? fill : String(raw), t.tokenizer, t.lowercase);
    };
    const trainTokens = trainRows.map(tokensOf);
    const textMeta: TextMeta = { column: c.name, tokenizer: t.tokenizer, lowercase: t.lowercase, vocab: buildVocab(trainTokens, t.vocabSize, t.oovToken), maxLength: t.maxLength, padding: t.padding, truncating: t.truncating };
    return { meta: textMeta, index: vocabIndex(textMeta.vocab), tokensOf, trainTokens };
  });
  if (multiInput) {
    if (textBlocks.some((b) => b.meta.column === TABULAR_BLOCK) && tabular.length > 0) {
      throw new DataError(`a text column named "${TABULAR_BLOCK}" clashes with the name of the tabular input`, { file: table.file, hint: 'rename the column' });
    }
    meta.inputs = [...(tabular.length > 0 ? [{ name: TABULAR_BLOCK, kind: 'tabular' as const, width: tabularWidth }] : []), ...textBlocks.map((b) => ({ name: b.meta.column, kind: 'text' as const, width: b.meta.maxLength, text: b.meta }))];
  } else if (textBlocks.length === 1) meta.text = textBlocks[0]!.meta;
  const width = tabularWidth + textBlocks.reduce((w, b) => w + b.meta.maxLength, 0);
  const scratch = new Int32Array(Math.max(0, ...textBlocks.map((b) => b.meta.maxLength)));

  const splits: Partial<Record<SplitName, SplitData>> = {};
  for (const name of ['train', 'validation', 'test'] as const) {
    const part = parts[name];
    if (part.length === 0) continue;
    const x = multiInput || textBlocks.length === 0 ? new Float32Array(part.length * width) : new Int32Array(part.length * width);
    rowsOf(part).forEach((i, r) => {
      let offset = r * width;
      const where = loc(i);
      encoders.forEach((enc, f) => {
        encodeFeature(enc, table.rows[i]![tabular[f]!.index], x as Float32Array, offset, where);
        offset += enc.width;
      });
      for (const b of textBlocks) {
        const tokens = name === 'train' ? b.trainTokens[r]! : b.tokensOf(i);
        if (x instanceof Int32Array) encodeTokens(tokens, b.index, b.meta, x, offset);
        else {
          encodeTokens(tokens, b.index, b.meta, scratch, 0);
          for (let t = 0; t < b.meta.maxLength; t++) x[offset + t] = scratch[t]!;
        }
        offset += b.meta.maxLength;
      }
    });
    const xShape = o.image ? [part.length, o.image.height, o.image.width, o.image.channels] : [part.length, width];
    splits[name] = { n: part.length, x, xShape, y: pickTargets(targets, part), ...provenance(part), ...(cv && name === 'train' ? { folds: cv.folds } : {}) };
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

/** The name of the tabular block of a multi-input dataset (`model.inputs.features`). */
export const TABULAR_BLOCK = 'features';

interface InputColumn {
  name: string;
  index: number;
  type: Exclude<ColumnType, 'ignore'>;
}

function columnIndex(table: Table): Map<string, number> {
  return new Map(table.columns.map((c, i) => [c, i]));
}

function requireColumn(table: Table, col: Map<string, number>, name: string, option: string, configPath?: (string | number)[]): number {
  const i = col.get(name);
  if (i === undefined) {
    throw new DataError(`has no column "${name}" (named by ${option})`, {
      ...(configPath ? { configPath } : {}),
      file: table.file,
      hint: `the columns are: ${table.columns.join(', ')}`,
    });
  }
  return i;
}

/** `columns.<target>` may only say how a regression target is scaled; anything else would be silently ignored. */
function checkTargetOverride(table: Table, o: BuildOptions, target: string): void {
  const override = o.columns[target];
  if (!override) return;
  const useless = Object.keys(override).filter((k) => k !== 'normalize');
  if (useless.length > 0) {
    throw new DataError(`columns.${target}.${useless[0]} has no effect: "${target}" is the target`, {
      file: table.file,
      hint: 'a target override may set only `normalize` (the scaling of a regression target); the task is set with `task`',
    });
  }
}

function textColumn(table: Table, col: Map<string, number>, targets: readonly string[], text: TextOptions, option: string): InputColumn {
  const name = text.column;
  const index = requireColumn(table, col, name, option);
  if (targets.includes(name)) throw new DataError(`uses "${name}" as both target and text column`, { file: table.file });
  return { name, index, type: 'text' };
}

function featureColumns(table: Table, col: Map<string, number>, o: BuildOptions, targets: readonly string[], texts: ReadonlySet<string>, fmt: CellFormat, warnings: string[]): InputColumn[] {
  for (const name of o.exclude ?? []) requireColumn(table, col, name, 'exclude');
  if (o.features && o.exclude) throw new DataError('`features` and `exclude` were both set', { hint: 'list the inputs in `features`, or leave it out and name the columns to drop in `exclude`' });
  const excluded = new Set([...(o.exclude ?? []), ...(o.id === undefined ? [] : [o.id]), ...texts, ...[o.split.group, o.split.column].filter((c) => c !== undefined)]);
  const names = o.features ?? table.columns.filter((c) => !targets.includes(c) && !excluded.has(c));
  const out: InputColumn[] = [];
  for (const name of names) {
    const index = requireColumn(table, col, name, 'features');
    if (targets.includes(name)) {
      throw new DataError(`lists the target "${name}" among the features`, { file: table.file, hint: 'remove it from `features`' });
    }
    if (texts.has(name)) throw new DataError(`lists the text column "${name}" among the features`, { file: table.file, hint: 'a text column is an input through `text`; remove it from `features`' });
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

/** The test split and folds of a cross-validated build (`split.kfold`, `group` or `column`); undefined for a plain split. */
function cvSplitOf(table: Table, col: Map<string, number>, o: BuildOptions, keep: number[], strata: ArrayLike<number> | undefined, fmt: CellFormat): CvSplit | undefined {
  const { kfold, group, column } = o.split;
  if (kfold === undefined && column === undefined) {
    if (group !== undefined) throw new DataError('split.group was set without split.kfold', { file: table.file, hint: 'add split.kfold: 5 (groups then never share a fold)' });
    return undefined;
  }
  if (group !== undefined && column !== undefined) throw new DataError('split.group and split.column were both set', { file: table.file, hint: 'the column names each row\'s fold; keep one of them' });
  const valuesOf = (name: string, option: string) => {
    const index = requireColumn(table, col, name, option);
    return keep.map((i) => {
      const v = table.rows[i]![index];
      return isMissing(v, fmt) ? '' : categoryOf(v, fmt);
    });
  };
  return splitFolds(keep.length, {
    ...(kfold === undefined ? {} : { k: kfold }),
    test: o.split.test,
    seed: o.split.seed,
    shuffle: o.shuffle,
    ...(group === undefined ? (strata ? { strata } : {}) : { groups: valuesOf(group, 'split.group') }),
    ...(column === undefined ? {} : { predefined: valuesOf(column, 'split.column') }),
  });
}

function cvMetaOf(cv: CvSplit, split: BuildOptions['split']): CvMeta {
  const column = cv.strategy === 'group' ? split.group : cv.strategy === 'column' ? split.column : undefined;
  return { k: cv.k, strategy: cv.strategy, sizes: foldSizes(cv.folds, cv.k), ...(column === undefined ? {} : { column }), ...(cv.names ? { names: cv.names } : {}) };
}

function isMissingInput(v: unknown, type: InputColumn['type'], fmt: CellFormat): boolean {
  if (type === 'text') return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
  return isMissing(v, fmt);
}
