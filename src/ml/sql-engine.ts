import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** A file format DuckDB reads or writes, told by the file name's extension. */
export type TableFormat = 'parquet' | 'csv' | 'json';

const FORMATS: Record<string, TableFormat> = {
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.json': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
};

export const TABLE_EXTENSIONS = Object.keys(FORMATS);

export function formatOf(path: string): TableFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** A SQL string literal of `text` (quotes doubled): paths reach the engine as data, never as SQL. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The table function that reads `path`: a file by its extension, or a folder as every file of
 * one format below it (a partitioned Parquet folder, a folder of CSVs).
 */
export async function readerOf(path: string): Promise<string> {
  if ((await stat(path)).isDirectory()) {
    const files = (await readdir(path, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name.toLowerCase());
    for (const ext of ['.parquet', '.csv', '.jsonl', '.json']) {
      if (files.some((name) => name.endsWith(ext))) return reader(formatOf(`x${ext}`)!, join(path, '**', `*${ext}`));
    }
    throw new Error(`the folder ${path} holds no .parquet, .csv or .json(l) file`);
  }
  const format = formatOf(path);
  if (!format) throw new Error(`cannot read ${path}: expected one of ${TABLE_EXTENSIONS.join(', ')}`);
  return reader(format, path);
}

function reader(format: TableFormat, path: string): string {
  if (format === 'parquet') return `read_parquet(${sqlString(path)}, union_by_name = true)`;
  if (format === 'json') return `read_json_auto(${sqlString(path)})`;
  return `read_csv(${sqlString(path)}, auto_detect = true, header = true)`;
}

/** The COPY options that write `format`. */
export function copyOptions(format: TableFormat): string {
  if (format === 'parquet') return '(FORMAT parquet, COMPRESSION zstd)';
  if (format === 'json') return '(FORMAT json)';
  return '(FORMAT csv, HEADER true)';
}

/** Settings of the engine: a memory ceiling (beyond it, sorts and tables spill to `tempDirectory`) and the thread count. */
export interface SqlEngineOptions {
  /** A database file to hold the tables (stored compressed, paged out past the memory ceiling); default: in memory. */
  database?: string;
  /** e.g. `512MB`; default: DuckDB's (80 % of RAM). */
  memoryLimit?: string;
  tempDirectory?: string;
  threads?: number;
}

/** One column of a result chunk: its values as a typed array (numeric types) or JSON values, without NULL handling (select NULL-free expressions). */
export type ChunkColumn = Float64Array | Float32Array | Int32Array | unknown[];

/** An open in-memory DuckDB database; `@duckdb/node-api` is loaded only here, when a sql stage runs. */
export interface SqlEngine {
  run(sql: string): Promise<void>;
  /** The first row of a query, its values as JSON-safe strings or numbers. */
  first(sql: string): Promise<Record<string, unknown> | undefined>;
  /** Every row of a query, as JSON values (BIGINT, DECIMAL and dates come back as strings). */
  rows(sql: string): Promise<{ columns: string[]; rows: unknown[][] }>;
  /** Streams a query's rows as `rows` gives them (JSON values), a chunk of about 2,048 rows at a time. */
  streamRows(sql: string): Promise<{ columns: string[]; chunks: AsyncIterable<unknown[][]> }>;
  /** Streams a query chunk by chunk (about 2,048 rows each); `onChunk` gets each column's values and the row count. */
  stream(sql: string, onChunk: (columns: ChunkColumn[], rows: number) => void | Promise<void>): Promise<void>;
  /** Appends rows to an existing table whose columns are all INTEGER, one Int32Array per column (all the same length). */
  appendInt32(table: string, columns: readonly Int32Array[]): Promise<void>;
  /** Stops the statement running now (it then fails with an interrupt error). */
  interrupt(): void;
  close(): void;
}

export async function openSqlEngine(options: SqlEngineOptions = {}): Promise<SqlEngine> {
  const duckdb = await import('@duckdb/node-api');
  const config: Record<string, string> = {};
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  if (options.threads) config.threads = String(options.threads);
  const instance = await duckdb.DuckDBInstance.create(options.database ?? ':memory:', config);
  const connection = await instance.connect();
  return {
    run: async (sql) => {
      await connection.run(sql);
    },
    first: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson()[0] as Record<string, unknown> | undefined,
    rows: async (sql) => {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
    },
    streamRows: async (sql) => {
      const result = await connection.stream(sql);
      return { columns: result.columnNames(), chunks: result.yieldRowsJson() as AsyncIterable<unknown[][]> };
    },
    stream: async (sql, onChunk) => {
      const result = await connection.stream(sql);
      for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        const columns: ChunkColumn[] = [];
        for (let c = 0; c < chunk.columnCount; c++) {
          const vector = chunk.getColumnVector(c) as unknown as { items?: unknown };
          const items = vector.items;
          columns.push(items instanceof Float64Array || items instanceof Float32Array || items instanceof Int32Array ? items : (chunk.getColumnValues(c) as unknown[]));
        }
        await onChunk(columns, chunk.rowCount);
      }
    },
    appendInt32: async (table, columns) => {
      const appender = await connection.createAppender(table);
      const types = columns.map(() => duckdb.INTEGER);
      const n = columns[0]?.length ?? 0;
      const size = 2048;
      for (let start = 0; start < n; start += size) {
        const rows = Math.min(size, n - start);
        const chunk = duckdb.DuckDBDataChunk.create(types, rows);
        columns.forEach((col, c) => {
          const vector = chunk.getColumnVector(c) as unknown as { items: Int32Array; flush(): void };
          vector.items.set(col.subarray(start, start + rows));
          vector.flush();
        });
        appender.appendDataChunk(chunk);
      }
      appender.closeSync();
    },
    interrupt: () => connection.interrupt(),
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
