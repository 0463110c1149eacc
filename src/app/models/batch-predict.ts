import { openAtomicWriter } from '../../core/fs/write-atomic.js';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { DataError } from '../../ml/errors.js';
import { loadPredictor, toPredictions, type Prediction, type Predictor, type TensorPredictions } from '../../ml/predict.js';
import { readTableBatches, type TableBatch } from '../../ml/table-batches.js';
import { transformRows } from '../../ml/transform.js';
import type { CellFormatMeta } from '../../ml/dataset.js';
import type { ImageOptions } from '../../ml/images.js';
import type { BackendChoice } from '../../ml/backend.js';
import { predictionRenderer, type PredictionFormat, type PredictionRenderer } from './prediction-output.js';
import type { PredictionSink } from './parquet-sink.js';

/** Options of {@link predictFile}. */
export interface PredictFileOptions {
  /** The model folder (see `modelDir`). */
  modelDir: string;
  /** A csv, tsv, jsonl or json file of raw rows. */
  input: string;
  /** Where to write the predictions (atomically: the file appears complete or not at all); omitted: they go to `write`, else are returned as `text`. */
  output?: string;
  /** Receives the rendered predictions piece by piece when there is no `output` (e.g. stdout, awaiting its drain). */
  write?: (text: string) => void | Promise<void>;
  /** Return every prediction in `predictions` (memory grows with the file); default: only when neither `output` nor `write` is given. */
  keepPredictions?: boolean;
  /** Output format; default: from the output's extension, else csv for csv/tsv input and jsonl for json/jsonl input. */
  format?: PredictionFormat;
  backend?: BackendChoice;
  /** Rows read, scored and written at a time. Default 4096. */
  chunkSize?: number;
  /** A row that cannot be scored: `fail` (default) stops with an error naming it; `skip` leaves it out and reports it. */
  onError?: 'fail' | 'skip';
  /** Binary models: predict class 1 at or above this probability (default 0.5). */
  threshold?: number;
  /** Add each row's per-feature occlusion contributions (see ml/explain.ts); refused for the models it does not support. */
  explain?: boolean;
}

/** A row left out by `onError: 'skip'`. */
export interface SkippedRow {
  /** 1-based data row in the input file. */
  row: number;
  line?: number;
  column?: string;
  reason: string;
}

/** What {@link predictFile} did. */
export interface PredictFileResult {
  rows: number;
  format: PredictionFormat;
  /** The file written, or null when the output is `text`. */
  output: string | null;
  /** The rendered predictions when neither `output` nor `write` was given. */
  text: string | null;
  /** Every prediction, in row order, when `keepPredictions` (else empty). */
  predictions: Prediction[];
  backend: string;
  /** Rows left out (onError skip), in file order. */
  skipped: SkippedRow[];
}

/** An input file that cannot be scored: unreadable, or a row with a missing or invalid value. */
export class PredictInputError extends UserError {
  constructor(message: string, options: { hint?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'PredictInputError';
  }
}

const DEFAULT_CHUNK = 4096;

function outputFormat(options: PredictFileOptions, inputPath: string): PredictionFormat {
  if (options.format === 'parquet' && !options.output) throw new PredictInputError('Parquet predictions need a file', { hint: 'pass --output predictions.parquet, or --format csv|jsonl to write them to stdout' });
  if (options.format) return options.format;
  const ext = extname(options.output ?? inputPath).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (options.output && (ext === '.parquet' || ext === '.pq')) return 'parquet';
  if (ext === '.csv' || ext === '.tsv' || ext === '.tab' || !options.output) return 'csv';
  throw new PredictInputError(`cannot tell the output format from "${options.output}"`, { hint: 'name the output .csv, .jsonl or .parquet, or pass --format csv|jsonl|parquet' });
}


/**
 * An image model's input file names image files (relative to the file's folder): decode them as
 * preprocess did. An unreadable image stays a path (so the row is reported) when skipping, else it
 * is a PredictInputError.
 */
async function decodeImageColumn(table: TableBatch, image: ImageOptions, baseDir: string, skip: boolean, format: CellFormatMeta | undefined): Promise<void> {
  const index = table.columns.indexOf(image.column);
  if (index < 0) return;
  const [{ decodeImage }, { cellFormatOf, isMissing }] = await Promise.all([import('../../ml/images.js'), import('../../ml/columns.js')]);
  const fmt = cellFormatOf(format);
  for (const [i, row] of table.rows.entries()) {
    const v = row[index];
    if (typeof v !== 'string' || isMissing(v, fmt) || v.trimStart().startsWith('[')) continue;
    try {
      row[index] = await decodeImage(isAbsolute(v) ? v : resolve(baseDir, v), image, { file: table.file, line: table.lines[i], row: table.offset + i + 1 });
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      if (!skip) throw new PredictInputError(err.message, { hint: `${err.hint ? `${err.hint}; or ` : ''}pass --on-error skip to leave such rows out`, cause: err });
    }
  }
}

/** Where the rendered predictions go: a Parquet file, a file written atomically, a writer (stdout), or a string kept in memory. */
async function openSink(options: PredictFileOptions, format: PredictionFormat, renderer: PredictionRenderer): Promise<PredictionSink> {
  if (format === 'parquet') {
    const { openParquetSink } = await import('./parquet-sink.js');
    return openParquetSink(options.output!, () => renderer.header());
  }
  if (options.output) {
    const file = await openAtomicWriter(options.output);
    return { write: (t) => file.write(t), done: async () => (await file.commit(), null), abort: () => file.abort() };
  }
  const asText = (t: string | Uint8Array) => (typeof t === 'string' ? t : Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('utf8'));
  if (options.write) {
    const write = options.write;
    return { write: async (t) => void (t.length > 0 && (await write(asText(t)))), done: async () => null, abort: async () => undefined };
  }
  const parts: string[] = [];
  return { write: async (t) => void parts.push(asText(t)), done: async () => parts.join(''), abort: async () => undefined };
}

/**
 * Scores every row of a data file with a registered model's own preprocessing and writes (or
 * returns) the input rows with their predictions. The file is read, scored and written a batch of
 * `chunkSize` rows at a time, so memory does not grow with the file (unless the predictions or
 * the text are asked to be returned). A bad row is a {@link PredictInputError} naming the file,
 * line and column; nothing is written then.
 */
export async function predictFile(options: PredictFileOptions): Promise<PredictFileResult> {
  const format = outputFormat(options, options.input);
  const chunk = options.chunkSize ?? DEFAULT_CHUNK;
  const batches = readTableBatches(options.input, { batchSize: chunk });
  const first = await nextBatch(batches);
  const predictor = await loadPredictor(options.modelDir, { backend: options.backend, threshold: options.threshold });
  let explained: string[] = [];
  if (options.explain) {
    const { explainUnsupported, explainedFeatures } = await import('../../ml/explain.js');
    const unsupported = explainUnsupported(predictor.meta);
    if (unsupported) {
      predictor.dispose();
      throw new UserError(`--explain does not support ${unsupported}`, { hint: 'predict without --explain; permutation importance (evaluate) ranks the features of any model' });
    }
    explained = explainedFeatures(predictor.meta.dataset);
  }
  const keep = options.keepPredictions ?? (!options.output && !options.write);
  const predictions: Prediction[] = [];
  const skipped: SkippedRow[] = [];
  let rows = 0;
  const renderer = predictionRenderer(format, first.value.columns, predictor.meta.labels, explained);
  let sink: PredictionSink;
  try {
    sink = await openSink(options, format, renderer);
  } catch (err) {
    predictor.dispose();
    throw err;
  }
  try {
    for (let batch: IteratorResult<TableBatch> = first; !batch.done; batch = await nextBatch(batches)) {
      const scored = await scoreBatch(predictor, batch.value, dirname(options.input), options.onError === 'skip', skipped, options.explain === true);
      rows += scored.rows.length;
      // Without kept predictions, a CSV is written straight from the model's outputs (no per-row objects).
      const bytes = scored.tensor && !keep ? renderer.renderTensor(scored.rows, scored.tensor, scored.sourceRows, scored.inputTexts) : undefined;
      if (bytes) {
        await sink.write(bytes);
        continue;
      }
      const predicted = scored.predictions ?? toPredictions(scored.tensor!, predictor.meta);
      if (keep) for (const p of predicted) predictions.push(p);
      await sink.write(renderer.render(scored.rows, predicted, scored.sourceRows, scored.inputTexts));
    }
    await sink.write(renderer.end());
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    predictor.dispose();
  }
  const text = await sink.done();
  return { rows, format, output: options.output ?? null, text, predictions, backend: predictor.backend, skipped };
}

/** The next batch of the input; a DataError of the reader becomes a PredictInputError. */
async function nextBatch(batches: AsyncGenerator<TableBatch>): Promise<IteratorResult<TableBatch>> {
  try {
    return await batches.next();
  } catch (err) {
    if (err instanceof DataError) throw new PredictInputError(err.message, { cause: err });
    throw err;
  }
}

const skipHint = (err: DataError) => `${err.hint ? `${err.hint}; or ` : ''}pass --on-error skip to leave such rows out`;

interface ScoredBatch {
  rows: unknown[][];
  /** The model's outputs for `rows`, or (explain) the predictions with their contributions. */
  tensor?: TensorPredictions;
  predictions?: Prediction[];
  sourceRows: number[];
  /** Each row's input cells as CSV, where the input's text is that (see TableBatch.texts). */
  inputTexts?: Array<string | undefined>;
}

/** Scores one batch: its rows that could be scored, their predictions and 1-based data rows; bad rows go to `skipped` (or throw unless `skip`). */
async function scoreBatch(predictor: Predictor, batch: TableBatch, baseDir: string, skip: boolean, skipped: SkippedRow[], explain: boolean): Promise<ScoredBatch> {
  const asObject = (r: unknown[]) => Object.fromEntries(batch.columns.map((c, j) => [c, r[j]]));
  const score = (rows: unknown[][]): Pick<ScoredBatch, 'tensor' | 'predictions'> => (explain ? { predictions: predictor.explain(rows.map(asObject)) } : { tensor: predictor.scoreTable(batch.columns, rows) });
  const image = predictor.meta.dataset.image;
  if (image) await decodeImageColumn(batch, image, baseDir, skip, predictor.meta.dataset.format);
  const all = batch.rows.map((_, i) => i);
  // A comma-separated row's text is its cells as the CSV output writes them (an image column's cells were replaced, so not there).
  const texts = batch.delimiter === ',' && !image ? batch.texts : undefined;
  try {
    return { rows: batch.rows, ...score(batch.rows), sourceRows: all.map((i) => batch.offset + i + 1), inputTexts: texts };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    if (!skip) {
      const i = (err.row ?? 1) - 1;
      const located = new DataError(err.reason, { file: batch.file, line: batch.lines[i], row: batch.offset + i + 1, column: err.column });
      throw new PredictInputError(located.message, { hint: skipHint(err), cause: err });
    }
  }
  // Find the bad rows one by one (encoding is cheap), then score the rest in one call.
  const good = all.filter((i) => {
    try {
      transformRows(predictor.meta.dataset, [batch.rows[i]!], batch.columns);
      return true;
    } catch (rowError) {
      if (!(rowError instanceof DataError)) throw rowError;
      skipped.push({ row: batch.offset + i + 1, line: batch.lines[i], ...(rowError.column ? { column: rowError.column } : {}), reason: rowError.reason });
      return false;
    }
  });
  const rows = good.map((i) => batch.rows[i]!);
  return { rows, ...(rows.length > 0 ? score(rows) : { predictions: [] }), sourceRows: good.map((i) => batch.offset + i + 1), inputTexts: texts && good.map((i) => texts[i]) };
}
