import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { DataError } from './errors.js';
import { checkUtf8, REPLACEMENT, replacementLine } from './utf8-check.js';

/** One record of a csv/tsv file: its fields and the 1-based line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
  /** The record's text as it is in the file (without the line end), given when it holds no quote, so its fields joined by the delimiter are exactly it. */
  text?: string;
}

/**
 * Most columns a table may have. Every row is held in memory with every column (a 1,000,000-column
 * CSV took 2.7 GB before training began); wider data is selected down before mlpipe reads it.
 */
export const MAX_COLUMNS = 10_000;

export function checkWidth(count: number, file: string, line?: number): void {
  if (count <= MAX_COLUMNS) return;
  throw new DataError(`has ${count.toLocaleString('en-US')} columns, more than the ${MAX_COLUMNS.toLocaleString('en-US')} mlpipe reads (every row is held in memory with all of them)`, {
    file,
    line,
    hint: 'keep the columns you mean to train on before this stage (a shell stage with cut, or a sql stage selecting them), or reduce them (feature hashing, PCA)',
  });
}

export function headerNames(record: string[], file: string): string[] {
  checkWidth(record.length, file, 1);
  const seen = new Set<string>();
  return record.map((raw, i) => {
    const name = raw.trim() || `column_${i + 1}`;
    if (seen.has(name)) {
      throw new DataError(`header names the column "${name}" twice`, { file, line: 1, hint: 'give every column a distinct name' });
    }
    seen.add(name);
    return name;
  });
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
/** Bytes read at a time; a plain chunk's lines are one block of records, so it is kept near a predict batch (64 KiB: some 4,000 short rows; 1 MiB blocks lived long enough to double the peak memory of `mlpipe predict`). */
const CHUNK = 1 << 16;

/** How far the plain reader got: the byte offset of the first record it did not read, the lines and data rows before it, and the header. */
interface Resume {
  start: number;
  lines: number;
  rows: number;
  columns?: string[];
  /** The file's bytes were checked to be UTF-8 (once, at the first U+FFFD in its text). */
  utf8Checked?: boolean;
}

/**
 * The records of a csv/tsv file, streamed: first the header (its column names, line 1), then each
 * data row with the 1-based line it starts on (blank lines skipped). A ragged row or bad quoting is
 * a DataError naming the line. Text without quotes or carriage returns is split by hand a chunk of
 * lines at a time (csv-parse costs several times more per row); from the first chunk that holds
 * either, csv-parse reads the rest of the file.
 */
export async function* delimitedRecords(path: string, file: string, delimiter: string): AsyncGenerator<CsvRecord> {
  for await (const block of delimitedRecordBlocks(path, file, delimiter)) yield* block;
}

/** Most records of a block that csv-parse read (a block of the plain reader is a chunk's lines). */
const PARSED_BLOCK = 4096;

/**
 * {@link delimitedRecords} in blocks of consecutive records (the header first in the first one),
 * so that a reader of many short rows does not pay an async step per row.
 */
export async function* delimitedRecordBlocks(path: string, file: string, delimiter: string): AsyncGenerator<CsvRecord[]> {
  const state: Resume = { start: 0, lines: 0, rows: 0 };
  const source = createReadStream(path, { highWaterMark: CHUNK });
  let carry: Buffer | undefined;
  let plain = true;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      if (state.start === 0 && !carry && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        state.start = 3;
      }
      if (buf.indexOf(QUOTE) >= 0 || buf.indexOf(CR) >= 0) {
        plain = false;
        break;
      }
      const end = buf.lastIndexOf(LF);
      if (end < 0) {
        carry = buf;
        continue;
      }
      const text = buf.toString('utf8', 0, end);
      await checkDecoding(path, file, text, state);
      yield plainLines(text, state, file, delimiter);
      state.start += end + 1;
      carry = buf.subarray(end + 1);
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot be read: ${(err as Error).message}`, { file, cause: err });
  } finally {
    source.destroy();
  }
  if (plain) {
    if (carry && carry.length > 0) {
      const text = carry.toString('utf8');
      await checkDecoding(path, file, text, state);
      yield plainLines(text, state, file, delimiter);
    }
    return;
  }
  let block: CsvRecord[] = [];
  for await (const record of parsedRecords(path, file, delimiter, state)) {
    block.push(record);
    if (block.length >= PARSED_BLOCK) {
      yield block;
      block = [];
    }
  }
  if (block.length > 0) yield block;
}

/** A DataError when `text` (the lines after `state`'s) holds U+FFFD and the file is not UTF-8; checked once per file. */
async function checkDecoding(path: string, file: string, text: string, state: Resume): Promise<void> {
  if (state.utf8Checked) return;
  const line = replacementLine(text, state.lines);
  if (line === undefined) return;
  await checkUtf8(path, file, line);
  state.utf8Checked = true;
}

/** The records of `text`, lines without quotes or carriage returns (the last one without its line end), after `state`'s lines; advances `state`. */
function plainLines(text: string, state: Resume, file: string, delimiter: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let from = 0;
  for (;;) {
    const to = text.indexOf('\n', from);
    const record = to < 0 ? text.slice(from) : text.slice(from, to);
    state.lines++;
    if (record.length > 0) {
      const fields = record.split(delimiter);
      const line = state.lines;
      if (!state.columns) {
        state.columns = headerNames(fields, file);
        out.push({ fields: state.columns, line });
      } else {
        state.rows++;
        checkFields(fields.length, state.columns, { file, line, row: state.rows }, delimiter);
        out.push({ fields, line, text: record });
      }
    }
    if (to < 0) return out;
    from = to + 1;
  }
}

function checkFields(count: number, columns: string[], loc: { file: string; line: number; row: number }, delimiter: string): void {
  if (count === columns.length) return;
  throw new DataError(`has ${count} fields, expected ${columns.length} like the header (${columns.join(', ')})`, {
    ...loc,
    hint: `quote fields that contain the delimiter (${JSON.stringify(delimiter)}), set \`delimiter\` if the file uses another one, or fix the row`,
  });
}

/**
 * The records after the first `done.rows` data rows (and the header, once read), read by csv-parse
 * (quotes, CRLF). It parses from the file's start so that its lines and messages are those of
 * the whole file; the records already given are skipped.
 */
async function* parsedRecords(path: string, file: string, delimiter: string, done: Resume): AsyncGenerator<CsvRecord> {
  const source = createReadStream(path);
  const parser = source.pipe(parse({ bom: true, delimiter, info: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: false }));
  source.on('error', (err) => parser.destroy(err));
  let columns: string[] | undefined;
  let row = 0;
  let crlfInFields = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      crlfInFields += record.reduce((k, v) => k + count(v, '\r\n'), 0);
      const line = info.lines - crlfInFields - record.reduce((k, v) => k + count(v, '\n'), 0);
      if (!done.utf8Checked && record.some((v) => v.includes(REPLACEMENT))) {
        await checkUtf8(path, file, line);
        done.utf8Checked = true;
      }
      if (!columns) {
        columns = headerNames(record, file);
        if (!done.columns) yield { fields: columns, line };
        continue;
      }
      row++;
      if (row <= done.rows) continue;
      checkFields(record.length, columns, { file, line, row }, delimiter);
      yield { fields: record, line };
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    if (err instanceof CsvError) {
      const line = typeof err.lines === 'number' ? err.lines : undefined;
      throw new DataError(`is not valid ${delimiter === '\t' ? 'TSV' : 'CSV'}: ${err.message}`, { file, line, cause: err });
    }
    throw new DataError(`cannot be read: ${(err as Error).message}`, { file, cause: err });
  } finally {
    source.destroy();
  }
}

/** Occurrences of `sub` in `s`. csv-parse counts a CRLF inside a quoted field as two lines, so both counts are needed to find a row's first line. */
function count(s: string, sub: string): number {
  let k = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) k++;
  return k;
}
