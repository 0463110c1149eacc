import type { ResolvedId, TrueLabel } from '../core/monitor/prediction-log.js';
import { parseNumber } from '../ml/columns.js';
import type { ModelMeta } from '../ml/model-io.js';
import { BadRequestError } from './instances.js';

/** One true label sent to `POST /feedback`. */
export interface FeedbackItem {
  id: string;
  label: TrueLabel;
}

/** Feedback naming ids the log does not hold: a 404. */
export class UnknownIdError extends Error {
  readonly statusCode = 404;
  constructor(readonly ids: readonly string[]) {
    const shown = ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, … (${ids.length} in all)` : '');
    super(`no logged prediction has the id ${shown}; send the "id" of a POST /predict answer (ID for a one-row request, ID/ROW for a row of a batch); rows older than --log-retention are deleted; nothing was updated`);
    this.name = 'UnknownIdError';
  }
}

const preview = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

const EXAMPLE = '{"id": "…", "label": …} or [{"id": "…", "label": …}, …]';

function readLabel(label: unknown, at: string, meta: Pick<ModelMeta, 'task' | 'labels' | 'outputs'>): TrueLabel {
  if (meta.task === 'regression') {
    const v = typeof label === 'number' || typeof label === 'string' ? parseNumber(label) : undefined;
    if (v === undefined || !Number.isFinite(v)) throw new BadRequestError(`${at}.label: expected the true value (a finite number), got ${preview(label)}`);
    return v;
  }
  const labels = meta.labels ?? [];
  const text = typeof label === 'string' ? label : typeof label === 'number' || typeof label === 'boolean' ? String(label) : undefined;
  if (text === undefined || !labels.includes(text)) throw new BadRequestError(`${at}.label: expected one of the classes ${labels.join(', ')}, got ${preview(label)}`);
  return text;
}

/** The items of a `POST /feedback` body: one `{id, label}` or an array of them; a 400 naming the field otherwise. */
export function readFeedback(body: unknown, meta: Pick<ModelMeta, 'task' | 'labels' | 'outputs'>, maxItems: number): FeedbackItem[] {
  if (meta.outputs) throw new BadRequestError('feedback takes one label per row: this model predicts several targets, which the prediction log does not score yet');
  const many = Array.isArray(body);
  const items: unknown[] = many ? body : [body];
  if (items.length === 0) throw new BadRequestError(`the body is an empty array; send ${EXAMPLE}`);
  if (items.length > maxItems) throw new BadRequestError(`the body has ${items.length} items, more than the limit of ${maxItems} per request; split the batch`, 413);
  const seen = new Set<string>();
  return items.map((item, i) => {
    const at = many ? `[${i}]` : 'body';
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new BadRequestError(`${at} must be an object like {"id": "…", "label": …}, got ${preview(item)}`);
    const { id, label } = item as { id?: unknown; label?: unknown };
    if (typeof id !== 'string' || id === '') throw new BadRequestError(`${at}.id: expected the id of a POST /predict answer (a string), got ${preview(id)}`);
    if (label === undefined || label === null) throw new BadRequestError(`${at}.label: is missing`);
    if (seen.has(id)) throw new BadRequestError(`${at}.id: ${id} appears twice`);
    seen.add(id);
    return { id, label: readLabel(label, at, meta) };
  });
}

/** The rows the items name, or the error to answer: a 404 for unknown ids, a 400 for a bare request id of a batch. */
export function matchFeedback(items: readonly FeedbackItem[], resolved: readonly ResolvedId[]): { row: string; label: TrueLabel }[] {
  const unknown = resolved.filter((r) => 'unknown' in r).map((r) => r.id);
  if (unknown.length > 0) throw new UnknownIdError(unknown);
  const batch = resolved.find((r): r is { id: string; rows: number } => 'rows' in r);
  if (batch) throw new BadRequestError(`request ${batch.id} scored ${batch.rows} rows: send one label per row, with the ids ${batch.id}/0 … ${batch.id}/${batch.rows - 1}`);
  return resolved.map((r, i) => ({ row: (r as { row: string }).row, label: items[i]!.label }));
}
