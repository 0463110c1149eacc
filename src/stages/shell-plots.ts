import { extname, posix } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ConfigIssue } from '../core/stage-kind.js';
import { f, type Infer } from '../schema/fields.js';

/**
 * `plots:` of a shell stage (DVC plots): files of per-step values the command writes, whose columns
 * become curve metrics of the stage, as the train stage's per-epoch `loss`/`val_loss` are.
 */
export const plotsField = f.array(
  'Files of per-step values the command writes (DVC plots): each y column becomes a curve of this stage (a metric with a step per row), shown by `report`, `compare runs` and `mlpipe ui`; an output too, cached and restored with the others.',
  f.oneOf('A plots file, or `{ file, x, y, path }`.', [
    f.string('A plots file; every numeric column is a curve, one step per row (0, 1, …).', { path: 'output' }),
    f.object(
      'A plots file with the columns to plot.',
      {
        file: f.string('A JSON file (an array of rows, or an object of arrays), or a CSV/TSV file with a header row.', { path: 'output' }),
        x: f.string('The column holding each row\'s step (whole numbers, e.g. `epoch`); default: the row number from 0.'),
        y: f.oneOf('The column, or columns, to plot; default: every numeric column but x.', [
          f.string('A column name.'),
          f.array('Column names.', f.string('A column name.'), { minItems: 1 }),
        ]),
        path: f.string('For JSON: where the rows or arrays sit inside the file, keys joined with "." (e.g. `history` for `{"history": {"loss": [...]}}`).'),
      },
      { required: ['file'] },
    ),
  ]),
);

/** One `plots:` entry as written. */
export type PlotEntry = Infer<typeof plotsField>[number];

/** One `plots:` entry, normalized ({@link plotSpecOf}): a bare file name becomes `{ file }`, a single `y` column a list of one. */
export type PlotSpec = Omit<Exclude<PlotEntry, string>, 'y'> & {
  /** Undefined: every numeric column but x. */
  y?: string[];
};

export const plotSpecOf = (e: PlotEntry): PlotSpec =>
  typeof e === 'string' ? { file: e } : { file: e.file, x: e.x, y: e.y === undefined ? undefined : typeof e.y === 'string' ? [e.y] : e.y, path: e.path };

type Format = 'json' | 'csv' | 'tsv';
const FORMATS: Record<string, Format> = { '.json': 'json', '.csv': 'csv', '.tsv': 'tsv' };
export const formatOf = (file: string): Format | undefined => FORMATS[extname(file).toLowerCase()];

/** A curve: its points by ascending step. */
export type Curves = Record<string, { step: number; value: number }[]>;

/** A plots file that does not hold what its declaration says; the message names the column or value. */
export class PlotFileError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    /** The key of the declaration the problem is about (`['x']`, `['y', 1]`, `['path']`), when it is one. */
    readonly at?: (string | number)[],
  ) {
    super(message);
    this.name = 'PlotFileError';
  }
}

/** Load-time checks of `plots:` (the file's contents are checked when the command has written it). */
export function checkPlots(entries: readonly PlotEntry[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const files = new Map<string, number>();
  const curves = new Map<string, number>();
  entries.forEach((entry, i) => {
    const p = plotSpecOf(entry);
    const at = typeof entry === 'string' ? ['plots', i] : ['plots', i, 'file'];
    if (formatOf(p.file) === undefined) {
      issues.push({ path: at, message: `expected a .json, .csv or .tsv plots file, got "${p.file}"`, hint: 'write the points as JSON (rows or arrays), CSV or TSV with a header row' });
    }
    const norm = posix.normalize(p.file);
    if (files.has(norm)) issues.push({ path: at, message: `plots file "${p.file}" is already declared at plots[${files.get(norm)}]`, hint: 'list each file once, with every column it plots in y' });
    else files.set(norm, i);
    if (p.path !== undefined && formatOf(p.file) !== 'json') issues.push({ path: ['plots', i, 'path'], message: `expected path only for a JSON plots file, got it for "${p.file}"` });
    for (const [j, y] of (p.y ?? []).entries()) {
      const yAt = typeof entry !== 'string' && Array.isArray(entry.y) ? ['plots', i, 'y', j] : ['plots', i, 'y'];
      if (y === p.x) issues.push({ path: yAt, message: `expected y columns other than x, got "${y}" for both`, hint: 'x is the step of each point; leave it out of y' });
      else if (curves.has(y)) issues.push({ path: yAt, message: `curve "${y}" is already plotted from plots[${curves.get(y)}]`, hint: 'each y column names one curve of the stage; rename the column in one of the files' });
      else curves.set(y, i);
    }
  });
  return issues;
}

/** The curves of a plots file's text, as its declaration selects them. Throws {@link PlotFileError}. */
export function parsePlots(text: string, spec: PlotSpec): Curves {
  const format = formatOf(spec.file) ?? 'json';
  const table = format === 'json' ? jsonTable(text, spec.path) : delimitedTable(text, format === 'tsv' ? '\t' : ',');
  return curvesOf(table, spec);
}

/** Columns by name, each a value per row (undefined where a row lacks it). */
interface Table {
  columns: string[];
  rows: number;
  cell(column: string, row: number): unknown;
}

function jsonTable(text: string, path: string | undefined): Table {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PlotFileError(`is not valid JSON (${(err as Error).message})`);
  }
  for (const key of path ? path.split('.') : []) {
    if (!isObject(value) || !(key in value)) {
      throw new PlotFileError(`has no "${path}" (no key "${key}")`, isObject(value) ? `its keys: ${Object.keys(value).join(', ') || '(none)'}` : undefined, ['path']);
    }
    value = value[key];
  }
  const where = path ? `"${path}"` : 'the file';
  if (Array.isArray(value)) {
    const bad = value.findIndex((r) => !isObject(r));
    if (bad >= 0) throw new PlotFileError(`${where} is a list whose item ${bad} is not an object`, 'write one object per step, e.g. [{"epoch": 1, "loss": 0.9}, …]');
    const rows = value as Record<string, unknown>[];
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { columns, rows: rows.length, cell: (c, r) => rows[r]![c] };
  }
  if (isObject(value)) {
    const arrays = Object.entries(value).filter(([, v]) => Array.isArray(v)) as [string, unknown[]][];
    if (arrays.length === 0) {
      const nested = Object.entries(value).filter(([, v]) => isObject(v) && Object.values(v).some(Array.isArray)).map(([k]) => k);
      throw new PlotFileError(
        `${where} holds no list of rows and no lists of values`,
        nested.length > 0 ? `set path: ${nested[0]} (the lists are under "${nested[0]}")` : 'write [{"epoch": 1, "loss": 0.9}, …] or {"loss": [0.9, …]}',
      );
    }
    const byName = new Map(arrays);
    return { columns: arrays.map(([k]) => k), rows: Math.max(...arrays.map(([, a]) => a.length)), cell: (c, r) => byName.get(c)?.[r] };
  }
  throw new PlotFileError(`${where} is neither a list of rows nor an object of lists`, 'write [{"epoch": 1, "loss": 0.9}, …] or {"loss": [0.9, …]}');
}

function delimitedTable(text: string, delimiter: string): Table {
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, skip_empty_lines: true, trim: true, relax_column_count: false, bom: true }) as string[][];
  } catch (err) {
    throw new PlotFileError(`is not valid ${delimiter === '\t' ? 'TSV' : 'CSV'} (${(err as Error).message})`);
  }
  if (records.length === 0) throw new PlotFileError('is empty; expected a header row and one row per step');
  const [header, ...rows] = records as [string[], ...string[][]];
  const index = new Map(header.map((h, i) => [h, i]));
  return { columns: header, rows: rows.length, cell: (c, r) => rows[r]![index.get(c)!] };
}

function curvesOf(table: Table, spec: PlotSpec): Curves {
  const known = (c: string) => table.columns.includes(c);
  const columnsHint = `its columns: ${table.columns.join(', ') || '(none)'}`;
  if (spec.x !== undefined && !known(spec.x)) throw new PlotFileError(`has no x column "${spec.x}"`, columnsHint, ['x']);
  for (const [j, y] of (spec.y ?? []).entries()) if (!known(y)) throw new PlotFileError(`has no y column "${y}"`, columnsHint, ['y', j]);
  if (table.rows === 0) throw new PlotFileError('has no rows; expected one row per step');
  const steps: number[] = [];
  for (let r = 0; r < table.rows; r++) {
    if (spec.x === undefined) steps.push(r);
    else {
      const step = numberOf(table.cell(spec.x, r));
      if (step === undefined || !Number.isInteger(step) || Math.abs(step) > 2 ** 31 - 1) {
        throw new PlotFileError(`x column "${spec.x}" holds ${show(table.cell(spec.x, r))} in row ${r + 1}; steps must be whole numbers`, 'leave x out to number the rows 0, 1, …', ['x']);
      }
      steps.push(step);
    }
  }
  const ys = spec.y ?? table.columns.filter((c) => c !== spec.x && allNumeric(table, c));
  if (ys.length === 0) throw new PlotFileError(`has no numeric column to plot besides x`, columnsHint);
  const curves: Curves = {};
  for (const [j, y] of ys.entries()) {
    const points: { step: number; value: number }[] = [];
    for (let r = 0; r < table.rows; r++) {
      const raw = table.cell(y, r);
      if (raw === undefined || raw === null || raw === '') continue;
      const value = numberOf(raw);
      if (value === undefined) throw new PlotFileError(`y column "${y}" holds ${show(raw)} in row ${r + 1}, not a number`, undefined, spec.y ? ['y', j] : undefined);
      points.push({ step: steps[r]!, value });
    }
    curves[y] = points.sort((a, b) => a.step - b.step);
  }
  return curves;
}

function allNumeric(table: Table, column: string): boolean {
  let any = false;
  for (let r = 0; r < table.rows; r++) {
    const v = table.cell(column, r);
    if (v === undefined || v === null || v === '') continue;
    if (numberOf(v) === undefined) return false;
    any = true;
  }
  return any;
}

/** A finite number from a JSON number or a CSV cell; NaN/Infinity count as not numbers. */
function numberOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
