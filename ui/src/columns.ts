import type { RunRow } from './api.js';
import { formatCell, formatDuration, formatTime } from './format.js';

/** A column of the runs table: `status`, `params.lr`, `metrics.evaluate.accuracy`, … */
export interface Column {
  key: string;
  label: string;
  width: number;
  /** The value sorted on and exposed as data-value. */
  value(row: RunRow): number | string | null;
  text(row: RunRow): string;
  numeric: boolean;
  /** False for columns the server cannot order by (tags as a whole). */
  sortable?: boolean;
}

const fixed = (key: string, label: string, width: number, value: Column['value'], text: Column['text'] = (r) => String(value(r) ?? ''), numeric = false): Column => ({ key, label, width, value, text, numeric });

/** The columns every tracker has, in their default order. */
export const FIXED_COLUMNS: Column[] = [
  fixed('run', 'run', 130, (r) => r.name ?? r.shortId),
  fixed('name', 'name', 130, (r) => r.name),
  fixed('status', 'status', 100, (r) => r.status),
  fixed('pipeline', 'pipeline', 130, (r) => r.pipeline),
  fixed('started', 'started', 150, (r) => r.startedAt, (r) => formatTime(r.startedAt), true),
  fixed('duration', 'duration', 85, (r) => r.durationMs, (r) => formatDuration(r.durationMs), true),
  fixed('reason', 'why it failed', 320, (r) => (r.failure ? [`${r.failure.stage ? `${r.failure.stage}: ` : ''}${r.failure.error}`, r.failure.lastLines.at(-1)].filter(Boolean).join(' — ') : null)),
  fixed('sweep', 'sweep', 110, (r) => r.sweepId),
  fixed('commit', 'git commit', 95, (r) => r.gitCommit, (r) => r.gitCommit?.slice(0, 10) ?? ''),
  { ...fixed('tags', 'tags', 160, (r) => Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(' ') || null), sortable: false },
  fixed('note', 'note', 220, (r) => r.note),
];

const DEFAULT_FIXED = ['run', 'status', 'pipeline', 'started', 'duration', 'reason'];
const DEFAULT_EACH = 4;

export function paramColumn(name: string): Column {
  return {
    key: `params.${name}`,
    label: name,
    width: 100,
    value: (r) => {
      const v = r.params[name];
      return v === undefined || v === null ? null : typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v);
    },
    text: (r) => formatCell(r.params[name]),
    numeric: true,
  };
}

export function metricColumn(name: string): Column {
  return { key: `metrics.${name}`, label: name, width: 130, value: (r) => r.metrics[name] ?? null, text: (r) => formatCell(r.metrics[name]), numeric: true };
}

export function tagColumn(key: string): Column {
  return { key: `tags.${key}`, label: key, width: 110, value: (r) => r.tags[key] ?? null, text: (r) => r.tags[key] ?? '', numeric: false };
}

/** Every column available for these param, metric and tag names. */
export function allColumns(names: { params: string[]; metrics: string[]; tags?: string[] }): Column[] {
  return [...FIXED_COLUMNS, ...names.params.map(paramColumn), ...names.metrics.map(metricColumn), ...(names.tags ?? []).map(tagColumn)];
}

/** The columns shown before the user chooses: the basics (tags when runs have some), a few params, a few evaluation metrics. */
export function defaultColumns(names: { params: string[]; metrics: string[]; tags?: string[] }): string[] {
  const evals = names.metrics.filter((m) => /^eval/i.test(m));
  const metrics = (evals.length ? evals : names.metrics).slice(0, DEFAULT_EACH);
  const tags = names.tags?.length ? ['tags'] : [];
  return [...DEFAULT_FIXED, ...tags, ...names.params.slice(0, DEFAULT_EACH).map((p) => `params.${p}`), ...metrics.map((m) => `metrics.${m}`)];
}

