import { stat, rm } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, relative, sep } from 'node:path';
import { DataError } from '../ml/errors.js';
import { f, type Infer } from '../schema/fields.js';
import type { StageContext, StageKind } from '../core/stage-kind.js';
import type { DatasetMeta, Task, TextMeta } from '../ml/dataset.js';
import type { ColumnOverride, TextOptions } from '../ml/build-dataset.js';
import { cellFormatMeta, DEFAULT_NA_VALUES, type MissingStrategy } from '../ml/columns.js';
import { DATE_PARTS, DEFAULT_DATE_PARTS } from '../ml/dates.js';
import { describeFolds } from '../ml/kfold.js';
import { augmentField } from '../ml/augment/augment-field.js';
import { augmentMetrics, augmentTrainSplit } from './preprocess-augment.js';
import type { Encoding, TableFormat, TableSource } from '../ml/read-table.js';
import type { BuildOptions, BuildReport } from '../ml/build-dataset.js';
import type { TokenizerName } from '../ml/tokenize.js';

const normalizeField = <O extends { default?: 'zscore' | 'minmax' | 'none' } = {}>(d: string, o?: O) => f.enum(d, ['zscore', 'minmax', 'none'], o);
const encodingField = <O extends { default?: 'onehot' | 'ordinal' } = {}>(d: string, o?: O) => f.enum(d, ['onehot', 'ordinal'], o);
const fraction = (d: string, dflt: number) => f.number(d, { minimum: 0, exclusiveMaximum: 1, default: dflt });

const textField = f.object(
  'One text column as a fixed-length sequence of token ids.',
  {
    column: f.string('The text column.'),
    tokenizer: f.enum('word (Unicode word boundaries, also for Chinese/Japanese/Thai), char, or whitespace.', ['word', 'char', 'whitespace'], {
      default: 'word',
    }),
    lowercase: f.bool('Lower-case the text before tokenizing.', { default: true }),
    vocab_size: f.int('The vocabulary size, counting the padding and OOV tokens; the most frequent train tokens are kept.', {
      minimum: 3,
      default: 10000,
    }),
    max_length: f.int('Tokens per sequence; longer texts are truncated, shorter padded with id 0.', { minimum: 1, default: 64 }),
    oov_token: f.string('The token (id 1) standing for words not in the vocabulary.', { default: '<oov>' }),
    padding: f.enum('Where padding goes: pre (before the text) or post.', ['pre', 'post'], { default: 'pre' }),
    truncating: f.enum('Which end of a long text is cut: pre (the start) or post (the end).', ['pre', 'post'], { default: 'post' }),
  },
  { required: ['column'] },
);

const config = f.object(
  'Reads a table (csv, tsv, jsonl, json array, Parquet), encodes it and splits it into a dataset for train and evaluate.',
  {
    input: f.path('The data: a .csv, .tsv, .jsonl, .json (an array of objects) or .parquet file, or a folder of such files (all of one format, read as one table; see `files`).'),
    files: f.string('With a folder `input`: a glob of the files to read in it (`part-*.csv`, `**/*.parquet`), in name order; the cache key covers the whole folder.', {
      pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$',
    }),
    file_encoding: f.enum('The text encoding of csv/tsv files (other than utf-8, read by the engine).', ['utf-8', 'utf-16', 'latin-1'], { default: 'utf-8' }),
    engine: f.enum(
      'Where tabular data is built: auto uses the DuckDB engine for files over 2 MB, folders, Parquet and other encodings, and the row-by-row builder otherwise; always; never. Both give the same dataset bytes; the engine steps aside (and says why) for text, images, dates, dedupe, several targets and values it cannot place.',
      ['auto', 'always', 'never'],
      { default: 'auto' },
    ),
    format: f.enum('The file format; auto picks it from the extension.', ['auto', 'csv', 'tsv', 'jsonl', 'json', 'parquet'], { default: 'auto' }),
    delimiter: f.string('The field separator of a csv file (one character, or `tab`); auto: sniffed from the header line among `,` `;` tab and `|`. A .tsv file is tab-separated.', {
      default: 'auto',
      pattern: '^(auto|tab|[^\\s\\w"])$',
    }),
    na_values: f.array('Cell values read as missing, compared after trimming; the list replaces the default one.', f.string('A missing-value marker, e.g. `n/a`.'), {
      default: [...DEFAULT_NA_VALUES],
    }),
    decimal: f.enum('The decimal mark of numbers in the file: `.` (1234.5) or `,` (1234,5).', ['.', ','], { default: '.' }),
    thousands: f.enum(
      'The thousands separator, accepted only between groups of three digits (62,617): auto is `,` with a `.` decimal mark and `.` with a `,` one; none turns grouping off.',
      ['auto', 'none', ',', '.', 'space', "'"],
      { default: 'auto' },
    ),
    target: f.oneOf('The label column the model learns to predict, or a list of them (`[toxic, insult, spam]`): one model output each, with its own task (a multi-label set when they are binary), metrics per target and averaged.', [
      f.string('The label column.'),
      f.array('Several label columns; none of them is a feature.', f.string('A label column.'), { minItems: 1 }),
    ]),
    task: f.enum(
      'binary, multiclass or regression (for every target); auto: per target, a numeric one with more than 10 values (or fractions) is regression, 2 classes binary, more multiclass.',
      ['auto', 'binary', 'multiclass', 'regression'],
      { default: 'auto' },
    ),
    features: f.array('The tabular columns used as model input; default: every column except the targets, `exclude`, and columns that look like row identifiers (a warning names each) — or none when `text` is set: list them here to train on text and tabular columns together.', f.string('A column name.'), {
      minItems: 1,
    }),
    id: f.string('A column that identifies rows (e.g. customer_id): never a feature; evaluate writes it beside each prediction in predictions.csv.'),
    keep: f.array(
      'Columns whose raw values are carried into every split beside the model inputs (e.g. sex, island), whether or not they are features: evaluate `slices` scores the model per value of a kept column.',
      f.string('A column name.'),
      { minItems: 1 },
    ),
    exclude: f.array('Columns left out of the default features (e.g. ids, dates you do not want, leaky columns).', f.string('A column name.'), { minItems: 1 }),
    columns: f.map(
      'Per-column overrides of the inferred type and of the global encoding and normalization.',
      f.object('The override for one column.', {
        type: f.enum('numeric, categorical, date (ISO dates such as 2024-03-05 or 2024-03-05T14:30Z, expanded into numeric parts), text, or ignore to leave the column out.', [
          'numeric',
          'categorical',
          'date',
          'text',
          'ignore',
        ]),
        parts: f.array(`date columns: the numbers each date becomes, normalized like numeric columns (default ${DEFAULT_DATE_PARTS.join(', ')}); day_of_week is 0 for Monday, timestamp is days since 1970.`, f.enum('A part of the date.', DATE_PARTS), { minItems: 1 }),
        encoding: encodingField('The encoding of this categorical column.'),
        normalize: normalizeField('The normalization of this numeric column.'),
      }),
      { default: {} },
    ),
    missing: f.oneOf(
      'Missing values (empty, NA, NaN, null, ?): drop the row, or fill with a train-split statistic or a constant.',
      [
        f.enum('drop the row, or fill with the mean, median or mode (categories always use the mode).', ['drop', 'mean', 'median', 'mode']),
        f.object(
          'A fill strategy.',
          {
            fill: f.enum('How the fill value is found.', ['mean', 'median', 'mode', 'constant']),
            value: f.any('The fill value for `constant`.'),
          },
          { required: ['fill'] },
        ),
      ],
      { default: 'drop' },
    ),
    encoding: encodingField('Categorical columns: one column per category (onehot) or the category index (ordinal).', { default: 'onehot' }),
    normalize: normalizeField('Numeric columns: z-score, min-max to [0, 1], or none; statistics from the train split only.', {
      default: 'zscore',
    }),
    text: f.oneOf(
      'Text input: one column (`{column, …}`), or a list of them, each with its own vocabulary. With `features` too, the model takes the text(s) and the tabular columns together (one encoder per input, concatenated).',
      [textField, f.array('Several text columns.', textField, { minItems: 1 })],
    ),
    image: f.object(
      'Makes one column of image file paths (PNG, JPEG, WebP; relative to the data file\'s folder) the model input: each image decoded, resized to width × height and scaled to [0, 1], as [height, width, channels].',
      {
        column: f.string('The column of image paths.'),
        width: f.int('Width in pixels after resizing.', { minimum: 1 }),
        height: f.int('Height in pixels after resizing.', { minimum: 1 }),
        channels: f.int('1 for grey scale, 3 for RGB.', { minimum: 1, maximum: 3, default: 1 }),
        fit: f.enum('How the aspect ratio is handled: fill stretches, contain pads with black, cover crops to fill.', ['fill', 'contain', 'cover'], { default: 'fill' }),
      },
      { required: ['column', 'width', 'height'] },
    ),
    split: f.object(
      'How rows are split into train, validation and test.',
      {
        test: fraction('The fraction of rows held out for testing.', 0.2),
        validation: fraction('The fraction of rows held out for validation during training.', 0.1),
        seed: f.int('The seed of the shuffle; the same seed gives the same split.', { default: 42 }),
        stratify: f.bool('Keep the class proportions in every split (classification only).', { default: true }),
        kfold: f.int('Cross-validation: cut the rows not held out for testing into this many folds (seeded; stratified for classification unless stratify: false); train then fits one model per fold and reports each metric\'s mean and std, and the model it outputs is refit on every fold. `validation` is not used.', { minimum: 2 }),
        group: f.string('With kfold: a column whose values never share a fold, nor a fold and the test split (e.g. patient_id; scikit-learn GroupKFold). Not a feature.'),
        column: f.string('Predefined folds: the column naming each row\'s fold (e.g. 0..4; scikit-learn PredefinedSplit); rows whose value is `test` are the test split (`test` and `validation` are not used). Not a feature.'),
      },
      { default: {} },
    ),
    shuffle: f.bool('Shuffle rows (with split.seed) before splitting; false keeps file order: train first, test last.', { default: true }),
    dedupe: f.bool('Drop rows whose input and target values repeat an earlier row.', { default: false }),
    augment: augmentField,
  },
  { required: ['input', 'target'] },
);

/** The resolved `with` block of a preprocess stage, derived from its declaration above. */
export type PreprocessConfig = Infer<typeof config>;

/** One text column's settings in a preprocess stage (defaults filled). */
export type TextConfig = Infer<typeof textField>;

/** The `preprocess` stage kind: one table in, one `dataset` folder out (see src/ml/dataset.ts for the format). */
export const preprocess: StageKind<PreprocessConfig> = {
  kind: 'preprocess',
  version: 4, // 4: the engine path reads rows in file order (a long IN list of missing markers had reordered them)
  description: 'Reads csv/tsv/jsonl/json data, encodes, normalizes or tokenizes it, and writes seeded train/validation/test splits.',
  config,
  outputs: () => ({ dataset: { path: 'dataset', location: 'stage' } }),
  check: (c) => (c.keep ?? []).flatMap((name, i) => (c.keep!.indexOf(name) === i ? [] : [{ path: ['keep', i], message: `expected each kept column once, got "${name}" again`, hint: `remove keep[${i}]` }])),
  async run(ctx) {
    const c = ctx.config;
    const sourceName = displayPath(ctx.workspace, c.input);
    const source: TableSource = { path: c.input, displayName: sourceName, format: c.format, delimiter: c.delimiter, encoding: c.file_encoding, ...(c.files === undefined ? {} : { files: c.files }) };
    const format = cellFormatMeta(c);
    const image = c.image && { ...c.image, channels: c.image.channels === 1 ? 1 : 3 } as const;
    if (c.image && c.image.channels === 2) throw new DataError('image.channels must be 1 (grey) or 3 (RGB), got 2', { hint: 'set channels: 1 or channels: 3' });
    const options: BuildOptions = {
      target: c.target,
      task: c.task,
      features: c.features,
      exclude: c.exclude,
      id: c.id,
      ...(c.keep ? { keep: c.keep } : {}),
      columns: c.columns,
      missing: missingStrategy(c.missing),
      encoding: c.encoding,
      normalize: c.normalize,
      text: c.text && (Array.isArray(c.text) ? c.text.map(textOptions) : textOptions(c.text)),
      split: c.split,
      shuffle: c.shuffle,
      dedupe: c.dedupe,
      format,
      ...(image ? { image } : {}),
    };
    const { meta, report, trainShape } = await atSpecNode(ctx, async () => {
      const built = (await useEngine(c, source, options)) ? await buildInEngine(ctx, source, options, sourceName) : undefined;
      return built ?? (await buildRowByRow(ctx, source, options, sourceName, image));
    });
    const s = report.splits;
    ctx.log(
      `read ${report.rowsRead} rows from ${sourceName}: kept ${report.rows}, dropped ${report.droppedMissing} with missing values` +
        (c.dedupe ? `, ${report.duplicates} duplicates` : ''),
    );
    const classesOf = (labels?: string[], counts?: Record<string, number>) => (labels ? `, ${labels.length} classes (${labels.map((l) => `${l} ${counts![l]}`).join(', ')})` : '');
    const textLine = (t: TextMeta) => `text "${t.column}": ${t.tokenizer} tokens, vocabulary ${t.vocab.length}, length ${t.maxLength}`;
    const tabularLine = `${meta.features.length} columns → ${meta.featureNames.length} inputs`;
    const inputs = meta.inputs
      ? `inputs ${meta.inputs.map((b) => (b.text ? textLine(b.text) : `tabular ${tabularLine}`)).join('; ')}`
      : meta.text
        ? textLine(meta.text)
        : meta.image
          ? `image "${meta.image.column}": ${meta.image.height}×${meta.image.width}×${meta.image.channels}`
          : tabularLine;
    if (meta.targets) ctx.log(`targets ${meta.targets.map((t) => `${t.name}: ${t.task}${classesOf(t.labels, t.classCounts)}`).join('; ')}`);
    ctx.log(`${meta.targets ? '' : `task ${meta.task}${classesOf(meta.labels, meta.classCounts)}; `}${inputs}`);
    for (const warning of report.warnings) ctx.log(`warning: ${warning}`);
    const dropped = droppedShareWarning(report.droppedMissing, report.rowsRead, c.missing);
    if (dropped) ctx.log(`warning: ${dropped}`);
    ctx.log(`split train ${s.train} / validation ${s.validation} / test ${s.test} (seed ${c.split.seed})`);
    if (meta.cv) ctx.log(describeFolds(meta.cv));
    const augmented = c.augment && (await augmentTrainSplit(ctx, c.augment));

    const metrics: Record<string, number> = {
      rows_read: report.rowsRead,
      rows: report.rows,
      dropped: report.rowsRead - report.rows,
      train_rows: s.train,
      validation_rows: s.validation,
      test_rows: s.test,
      inputs: trainShape.slice(1).reduce((a, b) => a * b, 1),
    };
    if (c.dedupe) metrics.duplicates = report.duplicates;
    if (meta.cv) metrics.folds = meta.cv.k;
    if (augmented) Object.assign(metrics, augmentMetrics(augmented), { train_rows: augmented.rowsAfter });
    if (meta.labels) metrics.classes = meta.labels.length;
    if (meta.targets) metrics.targets = meta.targets.length;
    if (meta.text) metrics.vocab_size = meta.text.vocab.length;
    for (const b of meta.inputs ?? []) if (b.text) metrics[`vocab_size_${b.name}`] = b.text.vocab.length;
    return { metrics };
  },
};

/** Files at least this big go to the engine under `engine: auto` (below it, loading the engine costs more than it saves). */
const ENGINE_MIN_BYTES = 2 * 1024 * 1024;

async function useEngine(c: PreprocessConfig, source: TableSource, o: BuildOptions): Promise<boolean> {
  if (c.engine === 'never' || c.split.kfold !== undefined || c.split.column !== undefined) return false;
  const { engineCanBuild } = await import('../ml/engine-dataset.js');
  if (!engineCanBuild(o)) return false;
  if (c.engine === 'always') return true;
  const info = await stat(source.path).catch(() => undefined);
  if (!info) return false;
  return info.isDirectory() || info.size >= ENGINE_MIN_BYTES || c.file_encoding !== 'utf-8' || ['.parquet', '.pq'].includes(extname(source.path).toLowerCase()) || c.format === 'parquet';
}

type Built = { meta: DatasetMeta; report: BuildReport; trainShape: number[] };

/** The engine path; undefined (after logging why) when it steps aside for the row-by-row builder. */
async function buildInEngine(ctx: StageContext<PreprocessConfig>, source: TableSource, o: BuildOptions, sourceName: string): Promise<Built | undefined> {
  const { preprocessInEngine, EngineFallback } = await import('../ml/engine-dataset.js');
  const out = ctx.outputs.dataset!;
  try {
    const { meta, report, delimiter } = await preprocessInEngine(source, o, sourceName, out);
    logDelimiter(ctx, delimiter);
    ctx.log('built in the engine (DuckDB)');
    return { meta, report, trainShape: meta.splits.train!.xShape };
  } catch (err) {
    if (!(err instanceof EngineFallback)) throw err;
    await rm(out, { recursive: true, force: true });
    ctx.log(`the engine stepped aside (${err.message}): built row by row`);
    return undefined;
  }
}

async function buildRowByRow(ctx: StageContext<PreprocessConfig>, source: TableSource, o: BuildOptions, sourceName: string, image: BuildOptions['image']): Promise<Built> {
  const [{ readTable }, { buildDataset }, { writeDataset }] = await Promise.all([import('../ml/read-table.js'), import('../ml/build-dataset.js'), import('../ml/dataset.js')]);
  const c = ctx.config;
  const table = await readTable(c.input, { format: c.format, delimiter: c.delimiter, displayName: sourceName, encoding: c.file_encoding, ...(c.files === undefined ? {} : { files: c.files }) });
  logDelimiter(ctx, table.delimiter);
  ctx.signal.throwIfAborted();
  if (image) {
    const { decodeImageCells } = await import('../ml/images.js');
    const { cellFormatOf, isMissing } = await import('../ml/columns.js');
    const index = table.columns.indexOf(image.column);
    if (index < 0) throw new DataError(`has no column "${image.column}" (named by image.column)`, { file: sourceName, hint: `the columns are: ${table.columns.join(', ')}` });
    const cells = table.rows.map((r) => r[index]);
    const fmt = cellFormatOf(o.format);
    await decodeImageCells(cells, dirname(c.input), image, (i) => ({ file: sourceName, line: table.lines[i], row: i + 1 }), (v) => isMissing(v, fmt));
    cells.forEach((v, i) => {
      table.rows[i]![index] = v;
    });
    ctx.log(`images: ${cells.length} from "${image.column}" decoded to ${image.width}×${image.height}×${image.channels} (${image.fit})`);
  }
  ctx.signal.throwIfAborted();
  const { dataset, report } = buildDataset(table, o, sourceName);
  ctx.signal.throwIfAborted();
  await writeDataset(ctx.outputs.dataset!, dataset);
  return { meta: dataset.meta, report, trainShape: dataset.splits.train!.xShape };
}

/** Runs `build`; a DataError about a config node (a `keep` column the data lacks) is rethrown naming that node's spec line and column. */
async function atSpecNode<T>(ctx: StageContext<PreprocessConfig>, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    if (!(err instanceof DataError) || !err.configPath) throw err;
    const where = ctx.specNode?.(err.configPath);
    if (!where) throw err;
    throw new DataError(`${err.reason}, at ${where}`, { file: err.file, ...(err.hintText ? { hint: err.hintText } : {}), cause: err });
  }
}

function logDelimiter(ctx: StageContext<PreprocessConfig>, delimiter: string | undefined): void {
  if (delimiter && delimiter !== ',' && delimiter !== '\t') ctx.log(`csv delimiter ${JSON.stringify(delimiter)}${ctx.config.delimiter === 'auto' ? ' (sniffed)' : ''}`);
}

function textOptions(t: TextConfig): TextOptions {
  return { column: t.column, tokenizer: t.tokenizer, lowercase: t.lowercase, vocabSize: t.vocab_size, maxLength: t.max_length, oovToken: t.oov_token, padding: t.padding, truncating: t.truncating };
}

/** Rows dropped for missing values are worth a warning from 5 % of the file on, with the option that keeps them. */
export function droppedShareWarning(dropped: number, read: number, missing: PreprocessConfig['missing']): string | undefined {
  if (missing !== 'drop' || read === 0 || dropped / read < 0.05) return undefined;
  return `${dropped} of ${read} rows (${((100 * dropped) / read).toFixed(1)} %) were dropped for a missing value; \`missing: mean\` (or median, mode) fills numbers from the train split and categories with their most frequent value instead`;
}

function missingStrategy(m: PreprocessConfig['missing']): MissingStrategy {
  if (m === 'drop') return { kind: 'drop' };
  if (typeof m === 'string') return { kind: 'fill', fill: m };
  return { kind: 'fill', fill: m.fill, value: m.value };
}

function displayPath(workspace: string, file: string): string {
  const rel = relative(workspace, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : basename(file);
}
