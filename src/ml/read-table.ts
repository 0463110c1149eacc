import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import picomatch from 'picomatch';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { checkWidth, delimitedRecords, headerNames } from './csv-records.js';
import { DataError } from './errors.js';
import { openSqlEngine, sqlIdentifier, sqlString, type SqlEngine } from './sql-engine.js';

export { checkWidth, delimitedRecords, MAX_COLUMNS } from './csv-records.js';

/** The file formats `readTable` reads. */
export type TableFormat = 'csv' | 'tsv' | 'jsonl' | 'json' | 'parquet';

/** A table in memory: raw cell values (strings from csv/tsv; JSON scalars or null from json/jsonl; undefined when a JSON row lacks the key). */
export interface Table {
  /** The name used in error messages. */
  file: string;
  columns: string[];
  /** One array per data row, aligned with `columns`. */
  rows: unknown[][];
  /** The 1-based line in the file where each row starts (json arrays: the 1-based element index). */
  lines: number[];
  /** The field separator of a csv/tsv file. */
  delimiter?: string;
}

export interface ReadTableOptions {
  /** Default: from the extension (.csv, .tsv/.tab, .jsonl/.ndjson, .json, .parquet). */
  format?: TableFormat | 'auto';
  /** csv only: one character, `tab`, or auto (default: sniffed from the header line). */
  delimiter?: string;
  /** How the file is named in error messages; default: the path. */
  displayName?: string;
  /** `path` is a folder: the glob of the files to read in it (default: every file of the format). */
  files?: string;
  /** csv/tsv: the text encoding (default utf-8). */
  encoding?: Encoding;
}

/**
 * Reads a csv, tsv, jsonl, json-array or Parquet file (Parquet through DuckDB, loaded only for it). A UTF-8 BOM and CRLF line ends are accepted, csv/tsv
 * and jsonl are streamed. Ragged rows, an empty file, a header without rows or malformed JSON are a
 * DataError naming the file and line.
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<Table> {
  const file = options.displayName ?? path;
  const source: TableSource = { path, displayName: file, format: options.format, delimiter: options.delimiter, files: options.files, encoding: options.encoding };
  const format = (await needsEngine(source)) ? 'engine' : options.format && options.format !== 'auto' ? options.format : formatFromExtension(path, file);
  const table =
    format === 'engine'
      ? await readWithEngine(source)
      : format === 'csv' || format === 'tsv'
      ? await readDelimited(path, file, format === 'tsv' ? '\t' : await csvDelimiter(path, options.delimiter))
      : format === 'jsonl'
        ? await readJsonLines(path, file)
        : format === 'parquet'
          ? await readParquet(path, file)
          : await readJsonArray(path, file);
  if (table.rows.length === 0) {
    throw new DataError(table.columns.length ? 'has a header but no data rows' : 'is empty', {
      file,
      hint: 'point `input` at a file with at least one data row',
    });
  }
  return table;
}

/** The format implied by a file name, or a DataError listing the known extensions. */
export function formatFromExtension(path: string, file = path): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new DataError(`cannot tell the format from the extension "${ext}"`, {
    file,
    hint: 'use .csv, .tsv, .jsonl, .json or .parquet, or set `format` on the stage',
  });
}

const SNIFFED = [',', ';', '\t', '|'];

/**
 * The csv field separator: the given one (`tab` is `\t`), or, for auto, the candidate among
 * `,` `;` tab `|` that occurs most often outside quotes in the first line (`,` on a tie or none).
 */
export async function csvDelimiter(path: string, setting = 'auto'): Promise<string> {
  if (setting === 'tab') return '\t';
  if (setting !== 'auto') return setting;
  const first = await firstLine(path);
  const counts = new Map(SNIFFED.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of first) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const d of SNIFFED) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

async function firstLine(path: string): Promise<string> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) return stripBom(line);
    return '';
  } finally {
    input.destroy();
  }
}

async function readDelimited(path: string, file: string, delimiter: string): Promise<Table> {
  let columns: string[] | undefined;
  const rows: unknown[][] = [];
  const lines: number[] = [];
  for await (const { fields, line } of delimitedRecords(path, file, delimiter)) {
    if (!columns) columns = fields;
    else {
      rows.push(fields);
      lines.push(line);
    }
  }
  return { file, columns: columns ?? [], rows, lines, delimiter };
}

async function readJsonLines(path: string, file: string): Promise<Table> {
  const objects: Record<string, unknown>[] = [];
  const lines: number[] = [];
  for await (const { object, line } of jsonLineObjects(path, file)) {
    objects.push(object);
    lines.push(line);
  }
  return fromObjects(file, objects, lines);
}

/** The objects of a jsonl file, streamed, each with its 1-based line (blank lines skipped); malformed JSON or a non-object is a DataError naming the line. */
export async function* jsonLineObjects(path: string, file: string): AsyncGenerator<{ object: Record<string, unknown>; line: number }> {
  const input = createReadStream(path, { encoding: 'utf8' });
  let lineNo = 0;
  let row = 0;
  try {
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      const text = (lineNo === 1 ? stripBom(raw) : raw).trim();
      if (!text) continue;
      row++;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw new DataError(`is not valid JSON: ${(cause as Error).message}`, { file, line: lineNo, row, cause });
      }
      yield { object: asRowObject(value, { file, line: lineNo, row }), line: lineNo };
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot be read: ${(err as Error).message}`, { file, cause: err });
  } finally {
    input.destroy();
  }
}

export async function readJsonArray(path: string, file: string): Promise<Table> {
  let value: unknown;
  try {
    const text = stripBom(await readFile(path, 'utf8'));
    if (!text.trim()) return { file, columns: [], rows: [], lines: [] };
    value = JSON.parse(text);
  } catch (cause) {
    throw new DataError(`is not valid JSON: ${(cause as Error).message}`, { file, cause });
  }
  if (!Array.isArray(value)) {
    throw new DataError('must hold a JSON array of objects (one per row)', { file, hint: 'use .jsonl for one object per line' });
  }
  const objects = value.map((v, i) => asRowObject(v, { file, row: i + 1 }));
  return fromObjects(file, objects, objects.map((_, i) => i + 1));
}

function fromObjects(file: string, objects: Record<string, unknown>[], lines: number[]): Table {
  const index = new Map<string, number>();
  for (const o of objects) for (const k of Object.keys(o)) if (!index.has(k)) index.set(k, index.size);
  checkWidth(index.size, file);
  const columns = [...index.keys()];
  const rows = objects.map((o) => columns.map((c) => o[c]));
  return { file, columns, rows, lines };
}

function asRowObject(value: unknown, loc: { file: string; line?: number; row: number }): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new DataError(`must be a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, loc);
  }
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
      throw new DataError('holds a nested object or a list of non-numbers; only strings, numbers, booleans, null and lists of numbers are supported', { ...loc, column: k });
    }
  }
  return value as Record<string, unknown>;
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Integer and decimal types that DuckDB hands back as strings: read as doubles, as a csv number would be. */
const WIDE_NUMBERS = /^(BIGINT|UBIGINT|HUGEINT|UHUGEINT|DECIMAL.*)$/;

/** The select list over DESCRIBE's rows that reads a table as readTable does (wide integers and decimals as doubles). */
export function selectAsRead(described: unknown[][]): string {
  const select = described.map(([name, type]) => (WIDE_NUMBERS.test(String(type)) ? `CAST(${sqlIdentifier(String(name))} AS DOUBLE) AS ${sqlIdentifier(String(name))}` : sqlIdentifier(String(name)))).join(', ');
  return select || '*';
}

/** A Parquet file's rows as JSON values (dates and timestamps as ISO text); line numbers are row numbers. */
async function readParquet(path: string, file: string): Promise<Table> {
  const engine = await openSqlEngine();
  try {
    const from = `read_parquet(${sqlString(path)})`;
    const described = await engine.rows(`DESCRIBE SELECT * FROM ${from}`);
    const { columns, rows } = await engine.rows(`SELECT ${selectAsRead(described.rows)} FROM ${from}`);
    return { file, columns, rows, lines: rows.map((_, i) => i + 1) };
  } catch (err) {
    throw new DataError(`is not a Parquet file this engine can read: ${(err as Error).message.split('\n')[0]}`, { file, hint: 'check the file, or give a csv, tsv, jsonl or json file', cause: err });
  } finally {
    engine.close();
  }
}

/** Encodings the CSV reader takes (the engine decodes them; UTF-8 files are also read without it). */
export const ENCODINGS = ['utf-8', 'utf-16', 'latin-1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** Where a table's rows lie: one file, or a folder (every file of one format below it, or those matching `files`). */
export interface TableSource {
  path: string;
  /** A glob of file names inside the folder `path`, e.g. `part-*.csv` or `**\/*.parquet`. */
  files?: string;
  format?: TableFormat | 'auto';
  delimiter?: string;
  encoding?: Encoding;
  /** How the data is named in messages. */
  displayName: string;
}

/** What the engine reads for a source: the table function's SQL, the format, the first file (for the header) and the csv delimiter. */
export interface EngineRead {
  sql: string;
  format: TableFormat;
  firstFile: string;
  delimiter?: string;
  /** How many files it reads: with more than one, the engine must read on one thread to keep the rows in file-name order. */
  files: number;
}

const FOLDER_FORMATS: Array<[string, TableFormat]> = [['.parquet', 'parquet'], ['.csv', 'csv'], ['.tsv', 'tsv'], ['.jsonl', 'jsonl'], ['.ndjson', 'jsonl'], ['.json', 'json']];

/** Whether a source is more than one plain UTF-8 file: a folder, or another encoding, which only the engine reads. */
export async function needsEngine(source: TableSource): Promise<boolean> {
  if (source.encoding !== undefined && source.encoding !== 'utf-8') return true;
  try {
    return (await stat(source.path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The engine's table function for `source`. `cells` says how cells are read: `typed` lets the
 * engine sniff the types with the given missing markers and decimal mark (`keepText` columns stay
 * raw text), `text` reads every csv cell as a string, as readTable does.
 */
export async function engineReader(source: TableSource, cells: { mode: 'typed'; naValues: readonly string[]; decimal: '.' | ','; keepText: readonly string[] } | { mode: 'text' }): Promise<EngineRead> {
  const file = source.displayName;
  const folder = (await stat(source.path)).isDirectory();
  let pattern = source.path;
  let format = source.format && source.format !== 'auto' ? source.format : undefined;
  if (folder) {
    const names = (await readdir(source.path, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const isMatch = source.files ? picomatch(source.files, { dot: false }) : undefined;
    const matching = isMatch ? names.filter((n) => isMatch(relative(source.path, n).split('\\').join('/'))) : names;
    format ??= source.files ? formatFromExtension(source.files, file) : FOLDER_FORMATS.find(([ext]) => matching.some((n) => n.toLowerCase().endsWith(ext)))?.[1];
    if (!format) throw new DataError('holds no .parquet, .csv, .tsv, .jsonl or .json file', { file, hint: 'point `input` at a folder of data files, or name them with `files`' });
    const ext = FOLDER_FORMATS.filter(([, f]) => f === format).map(([e]) => e);
    const files = matching.filter((n) => source.files || ext.some((e) => n.toLowerCase().endsWith(e))).sort();
    if (files.length === 0) throw new DataError(`has no file matching ${JSON.stringify(source.files ?? `*${ext[0]}`)}`, { file, hint: 'check `files` and the folder' });
    pattern = files.length === 1 ? files[0]! : `[${files.map(sqlString).join(', ')}]`;
    return { ...(await readerSql(files.length === 1 ? sqlString(files[0]!) : pattern, format, files[0]!, source, cells)), files: files.length };
  }
  format ??= formatFromExtension(source.path, file);
  return { ...(await readerSql(sqlString(pattern), format, source.path, source, cells)), files: 1 };
}

/**
 * Runs `statement` (which reads `read`) so that the rows keep their order: DuckDB's parallel reader
 * may interleave the rows of several files under load, so several files are read on one thread.
 */
export async function runInReadOrder(engine: SqlEngine, read: EngineRead, statement: string): Promise<void> {
  if (read.files <= 1) return engine.run(statement);
  await engine.run('SET threads = 1');
  try {
    await engine.run(statement);
  } finally {
    await engine.run('RESET threads');
  }
}

async function readerSql(paths: string, format: TableFormat, firstFile: string, source: TableSource, cells: Parameters<typeof engineReader>[1]): Promise<Omit<EngineRead, 'files'>> {
  if (format === 'parquet') return { sql: `read_parquet(${paths}, union_by_name = true)`, format, firstFile };
  if (format === 'json' || format === 'jsonl') return { sql: `read_json(${paths}, format = '${format === 'json' ? 'array' : 'newline_delimited'}')`, format, firstFile };
  const delimiter = format === 'tsv' ? '\t' : await csvDelimiter(firstFile, source.delimiter);
  const options = [`header = true`, `delim = ${sqlString(delimiter)}`, `quote = '"'`, `escape = '"'`, `encoding = ${sqlString(source.encoding ?? 'utf-8')}`];
  if (cells.mode === 'text') options.push('all_varchar = true');
  else {
    options.push(`decimal_separator = ${sqlString(cells.decimal)}`, `nullstr = [${cells.naValues.map(sqlString).join(', ') || "''"}]`);
    if (cells.keepText.length) {
      options.push(`types = {${cells.keepText.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`, `force_not_null = [${cells.keepText.map(sqlString).join(', ')}]`);
    }
  }
  return { sql: `read_csv(${paths}, ${options.join(', ')})`, format, firstFile, delimiter };
}

/** The header of a csv file as readTable names its columns (trimmed, `column_N` for a blank one). */
export async function csvHeader(path: string, delimiter: string): Promise<string[]> {
  const source = createReadStream(path);
  const parser = source.pipe(parse({ bom: true, delimiter, to_line: 1, relax_column_count: true }));
  try {
    for await (const record of parser as AsyncIterable<string[]>) return headerNames(record, path);
    return [];
  } finally {
    source.destroy();
  }
}

/** A folder, or a file in another encoding, read through the engine into the same Table readTable gives (csv cells as text). */
async function readWithEngine(source: TableSource): Promise<Table> {
  const read = await engineReader(source, { mode: 'text' });
  const engine = await openSqlEngine();
  try {
    const table = await engineTable(engine, read, source.displayName);
    const { columns, rows } = await engine.rows(`SELECT ${table.select} FROM t`);
    return { file: source.displayName, columns, rows, lines: rows.map((_, i) => i + 1), ...(read.delimiter ? { delimiter: read.delimiter } : {}) };
  } finally {
    engine.close();
  }
}

/**
 * Creates the engine's table `t` from a reader's SQL; returns the select list that reads it as
 * readTable would (wide integers and decimals as doubles). A file the engine cannot read is a DataError
 * with the engine's first line.
 */
export async function engineTable(engine: SqlEngine, read: EngineRead, file: string): Promise<{ select: string }> {
  try {
    await runInReadOrder(engine, read, `CREATE TABLE t AS SELECT * FROM ${read.sql}`);
    const described = await engine.rows('DESCRIBE t');
    checkWidth(described.rows.length, file);
    return { select: selectAsRead(described.rows) };
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot be read: ${(err as Error).message.split('\n')[0]}`, { file, hint: 'check the files and the format settings (delimiter, encoding, decimal)', cause: err });
  }
}
