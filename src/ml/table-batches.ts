import { DataError } from './errors.js';
import {
  checkWidth,
  csvDelimiter,
  engineReader,
  formatFromExtension,
  jsonLineObjects,
  needsEngine,
  readJsonArray,
  selectAsRead,
  type ReadTableOptions,
  type Table,
  type TableSource,
} from './read-table.js';
import { openSqlEngine } from './sql-engine.js';
import { delimitedRecordBlocks } from './csv-records.js';

/** A run of consecutive rows of a table, as readTable would give them (same cells, same lines). */
export interface TableBatch extends Table {
  /** Data rows before this batch: row `i` of the batch is data row `offset + i + 1` of the file. */
  offset: number;
  /** csv/tsv: each row's text as in the file, where it holds no quote (its fields joined by the delimiter are exactly it). */
  texts?: Array<string | undefined>;
}

export interface ReadBatchesOptions extends ReadTableOptions {
  /** Most rows per batch (default 4096). */
  batchSize?: number;
}

const DEFAULT_BATCH = 4096;

/**
 * Reads a table the way readTable does, but a batch at a time, so memory is bounded by the batch,
 * not the file: csv/tsv and jsonl are parsed as they stream (jsonl in two passes, the first
 * collecting the column names so every batch has them all, in readTable's order), Parquet, folders
 * and other encodings are streamed out of the engine. A json array is parsed whole (it is one
 * value), then handed out in batches. The same DataErrors as readTable, an empty file included.
 */
export async function* readTableBatches(path: string, options: ReadBatchesOptions = {}): AsyncGenerator<TableBatch> {
  const file = options.displayName ?? path;
  const size = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const source: TableSource = { path, displayName: file, format: options.format, delimiter: options.delimiter, files: options.files, encoding: options.encoding };
  const format = (await needsEngine(source)) ? 'engine' : options.format && options.format !== 'auto' ? options.format : formatFromExtension(path, file);
  const batches =
    format === 'engine' || format === 'parquet'
      ? engineBatches(source, format === 'parquet', size)
      : format === 'csv' || format === 'tsv'
        ? delimitedBatches(path, file, format === 'tsv' ? '\t' : await csvDelimiter(path, options.delimiter), size)
        : format === 'jsonl'
          ? jsonLineBatches(path, file, size)
          : arrayBatches(path, file, size);
  let rows = 0;
  let columns: string[] = [];
  for await (const batch of batches) {
    columns = batch.columns;
    if (batch.rows.length === 0) continue;
    rows += batch.rows.length;
    yield batch;
  }
  if (rows === 0) throw new DataError(columns.length ? 'has a header but no data rows' : 'is empty', { file, hint: 'point `input` at a file with at least one data row' });
}

/** Cuts a stream of rows into batches of `size`; a final empty batch carries the columns when there were no rows. */
class Batcher {
  private rows: unknown[][] = [];
  private lines: number[] = [];
  private texts: Array<string | undefined> = [];
  private offset = 0;
  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly delimiter?: string,
  ) {}

  add(row: unknown[], line: number, text?: string): boolean {
    this.rows.push(row);
    this.lines.push(line);
    this.texts.push(text);
    return this.rows.length >= this.size;
  }

  take(columns: string[]): TableBatch {
    const batch: TableBatch = { file: this.file, columns, rows: this.rows, lines: this.lines, offset: this.offset, ...(this.delimiter ? { delimiter: this.delimiter } : {}) };
    if (this.texts.some((t) => t !== undefined)) batch.texts = this.texts;
    this.offset += this.rows.length;
    this.rows = [];
    this.lines = [];
    this.texts = [];
    return batch;
  }
}

async function* delimitedBatches(path: string, file: string, delimiter: string, size: number): AsyncGenerator<TableBatch> {
  const batcher = new Batcher(file, size, delimiter);
  let columns: string[] | undefined;
  for await (const block of delimitedRecordBlocks(path, file, delimiter)) {
    for (const { fields, line, text } of block) {
      if (!columns) columns = fields;
      else if (batcher.add(fields, line, text)) yield batcher.take(columns);
    }
  }
  yield batcher.take(columns ?? []);
}

async function* jsonLineBatches(path: string, file: string, size: number): AsyncGenerator<TableBatch> {
  const names = new Set<string>();
  for await (const { object } of jsonLineObjects(path, file)) for (const k of Object.keys(object)) names.add(k);
  checkWidth(names.size, file);
  const columns = [...names];
  const batcher = new Batcher(file, size);
  for await (const { object, line } of jsonLineObjects(path, file)) {
    if (batcher.add(columns.map((c) => object[c]), line)) yield batcher.take(columns);
  }
  yield batcher.take(columns);
}

async function* arrayBatches(path: string, file: string, size: number): AsyncGenerator<TableBatch> {
  const table = await readJsonArray(path, file);
  if (table.rows.length === 0) yield { ...table, offset: 0 };
  for (let start = 0; start < table.rows.length; start += size) {
    yield { ...table, rows: table.rows.slice(start, start + size), lines: table.lines.slice(start, start + size), offset: start };
  }
}

/** Parquet, a folder or another encoding: the engine's rows, streamed chunk by chunk and regrouped into batches (row numbers are the lines). */
async function* engineBatches(source: TableSource, parquet: boolean, size: number): AsyncGenerator<TableBatch> {
  const file = source.displayName;
  const read = await engineReader(source, { mode: 'text' });
  // Several files are streamed on one thread so that their rows come in file-name order (see runInReadOrder).
  const engine = await openSqlEngine(read.files > 1 ? { threads: 1 } : {});
  try {
    let stream;
    try {
      const described = await engine.rows(`DESCRIBE SELECT * FROM ${read.sql}`);
      checkWidth(described.rows.length, file);
      stream = await engine.streamRows(`SELECT ${selectAsRead(described.rows)} FROM ${read.sql}`);
    } catch (err) {
      if (err instanceof DataError) throw err;
      const what = parquet ? 'is not a Parquet file this engine can read' : 'cannot be read';
      throw new DataError(`${what}: ${(err as Error).message.split('\n')[0]}`, { file, hint: 'check the files and the format settings (delimiter, encoding, decimal)', cause: err });
    }
    const batcher = new Batcher(file, size, read.delimiter);
    let row = 0;
    for await (const chunk of stream.chunks) {
      for (const r of chunk) if (batcher.add(r, ++row)) yield batcher.take(stream.columns);
    }
    yield batcher.take(stream.columns);
  } finally {
    engine.close();
  }
}
