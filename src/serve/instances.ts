import type { DatasetMeta } from '../ml/dataset.js';
import { parseNumber } from '../ml/columns.js';
import { DataError } from '../ml/errors.js';

/** A request the server refuses, with the HTTP status and a message that names the field. */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode: 400 | 413 = 400,
  ) {
    super(message);
    this.name = 'BadRequestError';
  }
}

const preview = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

const isInfinite = (v: unknown): boolean =>
  Math.abs(typeof v === 'number' ? v : typeof v === 'string' ? (parseNumber(v) ?? 0) : 0) === Infinity;

/**
 * The rows in a `POST /predict` body `{"instances": [...]}`: objects of raw column values, or for a
 * text model also bare strings (taken as its text column). Anything else is a 400 naming the field;
 * more than `maxInstances` rows is a 413.
 */
export function readInstances(body: unknown, meta: DatasetMeta, maxInstances: number): Record<string, unknown>[] {
  const textColumn = meta.inputKind === 'text' ? meta.text!.column : undefined;
  const expected = textColumn ? `{"instances": ["some text", {"${textColumn}": "more text"}]}` : `{"instances": [{"${meta.features[0]?.name ?? 'feature'}": …}]}`;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError(`the body must be a JSON object like ${expected}, got ${preview(body)}`);
  const instances = (body as { instances?: unknown }).instances;
  if (instances === undefined) throw new BadRequestError(`the body has no "instances" field; send ${expected}`);
  if (!Array.isArray(instances)) throw new BadRequestError(`"instances" must be an array, got ${preview(instances)}`);
  if (instances.length === 0) throw new BadRequestError('"instances" is empty; send at least one row');
  if (instances.length > maxInstances) throw new BadRequestError(`"instances" has ${instances.length} rows, more than the limit of ${maxInstances} per request; split the batch`, 413);
  return instances.map((row, i) => {
    if (textColumn && typeof row === 'string') return { [textColumn]: row };
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new BadRequestError(`instances[${i}] must be an object of column values${textColumn ? ' or a string' : ''}, got ${preview(row)}`);
    }
    for (const f of meta.features) {
      const v = (row as Record<string, unknown>)[f.name];
      if (v !== null && typeof v === 'object') throw new BadRequestError(`instances[${i}].${f.name}: expected a ${f.type === 'numeric' ? 'number' : 'string'}, got ${preview(v)}`);
      if (f.type === 'numeric' && isInfinite(v)) throw new BadRequestError(`instances[${i}].${f.name}: expected a finite number, got ${typeof v === 'string' ? preview(v) : String(v)}`);
    }
    return row as Record<string, unknown>;
  });
}

/** A preprocessing failure on row `row` (1-based) as a 400 naming `instances[i].column`. */
export function badInstance(err: DataError): BadRequestError {
  const at = `instances[${(err.row ?? 1) - 1}]${err.column !== undefined ? `.${err.column}` : ''}`;
  return new BadRequestError(`${at}: ${err.reason}`);
}
