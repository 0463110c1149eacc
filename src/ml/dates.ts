/** The numbers a date column expands into, one model input each. */
export const DATE_PARTS = ['year', 'month', 'day', 'day_of_week', 'day_of_year', 'hour', 'timestamp'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** What a date column becomes unless `columns.<name>.parts` says otherwise. */
export const DEFAULT_DATE_PARTS: readonly DatePart[] = ['year', 'month', 'day', 'day_of_week'];

/** ISO-like dates: `2024-03-05`, `2024/03/05`, `2024-03-05 14:30`, `2024-03-05T14:30:00.5Z`, `…+02:00`. */
const DATE_RE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether a cell is written as a date `parseDate` reads. */
export function looksLikeDate(v: unknown): boolean {
  return typeof v === 'string' && DATE_RE.test(v.trim());
}

/** Milliseconds since 1970-01-01 UTC of a date cell (no zone: read as UTC), or undefined when it is not a valid date. */
export function parseDate(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = DATE_RE.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  let t = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), Math.round(Number(`0.${frac}`) * 1000));
  const check = new Date(t);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23) return undefined;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return t;
}

/** One part of a UTC time: year, month 1–12, day 1–31, day_of_week 0 (Monday)–6, day_of_year 1–366, hour 0–23, timestamp in days since 1970. */
export function datePart(ms: number, part: DatePart): number {
  const d = new Date(ms);
  switch (part) {
    case 'year':
      return d.getUTCFullYear();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'day_of_week':
      return (d.getUTCDay() + 6) % 7;
    case 'day_of_year':
      return Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    case 'hour':
      return d.getUTCHours();
    case 'timestamp':
      return ms / 86_400_000;
  }
}
