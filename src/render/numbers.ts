import { formatValue } from '../core/expr.js';

/** A metric or param value for a table cell: numbers rounded for reading, others as JSON; null blank. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatValue(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A delta with its sign: `+0.0333`, `-0.5`, `±0`. */
export function formatDelta(d: number): string {
  if (d === 0) return '±0';
  const text = formatValue(d);
  return d > 0 ? `+${text}` : text;
}

/** `8.1s`, `120ms`, `3m 05s`, `1h 02m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Local time `2024-05-01 12:03`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
