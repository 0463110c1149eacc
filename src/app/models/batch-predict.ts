import { writeAtomic } from '../../core/fs/write-atomic.js';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { DataError } from '../../ml/errors.js';
import { loadPredictor, type Prediction } from '../../ml/predict.js';
import { readTable, type Table } from '../../ml/read-table.js';
import { transformRows } from '../../ml/transform.js';
import type { CellFormatMeta } from '../../ml/dataset.js';
import type { ImageOptions } from '../../ml/images.js';
import type { BackendChoice } from '../../ml/backend.js';
import { renderPredictions, type PredictionFormat } from './prediction-output.js';

/** Options of {@link predictFile}. */
export interface PredictFileOptions {
  /** The model folder (see `modelDir`). */
  modelDir: string;
  /** A csv, tsv, jsonl or json file of raw rows. */
  input: string;
  /** Where to write the predictions; omitted: they are returned as `text`. */
  output?: string;
  /** Output format; default: from the output's extension, else csv for csv/tsv input and jsonl for json/jsonl input. */
  format?: PredictionFormat;
  backend?: BackendChoice;
  /** Rows per model call. Default 4096. */
  chunkSize?: number;
  /** A row that cannot be scored: `fail` (default) stops with an error naming it; `skip` leaves it out and reports it. */
  onError?: 'fail' | 'skip';
  /** Binary models: predict class 1 at or above this probability (default 0.5). */
  threshold?: number;
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
  /** The rendered predictions when no output file was given. */
  text: string | null;
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
  if (options.format) return options.format;
  const ext = extname(options.output ?? inputPath).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv' || ext === '.tsv' || ext === '.tab' || !options.output) return 'csv';
  throw new PredictInputError(`cannot tell the output format from "${options.output}"`, { hint: 'name the output .csv or .jsonl, or pass --format csv|jsonl' });
}


/**
 * An image model's input file names image files (relative to the file's folder): decode them as
 * preprocess did. An unreadable image stays a path (so the row is reported) when skipping, else it
 * is a PredictInputError.
 */
async function decodeImageColumn(table: Table, image: ImageOptions, baseDir: string, skip: boolean, format: CellFormatMeta | undefined): Promise<void> {
  const index = table.columns.indexOf(image.column);
  if (index < 0) return;
  const [{ decodeImage }, { cellFormatOf, isMissing }] = await Promise.all([import('../../ml/images.js'), import('../../ml/columns.js')]);
  const fmt = cellFormatOf(format);
  for (const [i, row] of table.rows.entries()) {
    const v = row[index];
    if (typeof v !== 'string' || isMissing(v, fmt) || v.trimStart().startsWith('[')) continue;
    try {
      row[index] = await decodeImage(isAbsolute(v) ? v : resolve(baseDir, v), image, { file: table.file, line: table.lines[i], row: i + 1 });
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      if (!skip) throw new PredictInputError(err.message, { hint: `${err.hint ? `${err.hint}; or ` : ''}pass --on-error skip to leave such rows out`, cause: err });
    }
  }
}

/**
 * Scores every row of a data file with a registered model's own preprocessing and writes (or
 * returns) the input rows with their predictions. A bad row is a {@link PredictInputError} naming
 * the file, line and column.
 */
export async function predictFile(options: PredictFileOptions): Promise<PredictFileResult> {
  const format = outputFormat(options, options.input);
  let table;
  try {
    table = await readTable(options.input);
  } catch (err) {
    if (err instanceof DataError) throw new PredictInputError(err.message, { cause: err });
    throw err;
  }
  const predictor = await loadPredictor(options.modelDir, { backend: options.backend, threshold: options.threshold });
  const image = predictor.meta.dataset.image;
  try {
    if (image) await decodeImageColumn(table, image, dirname(options.input), options.onError === 'skip', predictor.meta.dataset.format);
  } catch (err) {
    predictor.dispose();
    throw err;
  }
  const predictions: Prediction[] = [];
  const scored: number[] = [];
  const skipped: SkippedRow[] = [];
  const asObject = (r: unknown[]) => Object.fromEntries(table.columns.map((c, j) => [c, r[j]]));
  try {
    const chunk = options.chunkSize ?? DEFAULT_CHUNK;
    for (let start = 0; start < table.rows.length; start += chunk) {
      const indexes = Array.from({ length: Math.min(chunk, table.rows.length - start) }, (_, k) => start + k);
      try {
        predictions.push(...predictor.predict(indexes.map((i) => asObject(table.rows[i]!))));
        scored.push(...indexes);
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        if (options.onError !== 'skip') {
          const index = start + (err.row ?? 1) - 1;
          const located = new DataError(err.reason, { file: table.file, line: table.lines[index], row: index + 1, column: err.column });
          throw new PredictInputError(located.message, { hint: `${err.hint ? `${err.hint}; or ` : ''}pass --on-error skip to leave such rows out`, cause: err });
        }
        // Find the bad rows one by one (encoding is cheap), then score the rest in one call.
        const good = indexes.filter((i) => {
          try {
            transformRows(predictor.meta.dataset, [asObject(table.rows[i]!)]);
            return true;
          } catch (rowError) {
            if (!(rowError instanceof DataError)) throw rowError;
            skipped.push({ row: i + 1, line: table.lines[i], ...(rowError.column ? { column: rowError.column } : {}), reason: rowError.reason });
            return false;
          }
        });
        if (good.length > 0) predictions.push(...predictor.predict(good.map((i) => asObject(table.rows[i]!))));
        scored.push(...good);
      }
    }
  } finally {
    predictor.dispose();
  }
  const rows = scored.map((i) => table.rows[i]!);
  const text = renderPredictions(format, table.columns, rows, predictions, predictor.meta.labels, scored.map((i) => i + 1));
  if (options.output) await writeAtomic(options.output, text);
  return { rows: rows.length, format, output: options.output ?? null, text: options.output ? null : text, predictions, backend: predictor.backend, skipped };
}
