/**
 * Where a spot in a SQL query sits, which decides how a param spliced in there is written: in the
 * query's code (a literal: a number as written, text quoted), inside a '…' string or a "…"
 * identifier (the characters, escaped for it), or in a `--` / `/* … *\/` comment.
 */
export type SqlContext = 'code' | 'string' | 'identifier' | 'line-comment' | 'block-comment';

/**
 * The context at the start of each span in `sql` (spans ascending, not overlapping); the spans
 * themselves (the placeholders) are skipped while scanning, so their text never opens a quote.
 */
export function sqlContextsAt(sql: string, spans: ReadonlyArray<{ start: number; end: number }>): SqlContext[] {
  const out: SqlContext[] = [];
  let state: SqlContext = 'code';
  let s = 0;
  let i = 0;
  while (i <= sql.length && s < spans.length) {
    if (i === spans[s]!.start) {
      out.push(state);
      i = spans[s]!.end;
      s++;
      continue;
    }
    const c = sql[i];
    const next = sql[i + 1];
    if (state === 'code') {
      if (c === "'") state = 'string';
      else if (c === '"') state = 'identifier';
      else if (c === '-' && next === '-') (state = 'line-comment'), i++;
      else if (c === '/' && next === '*') (state = 'block-comment'), i++;
    } else if (state === 'string') {
      if (c === "'" && next === "'") i++;
      else if (c === "'") state = 'code';
    } else if (state === 'identifier') {
      if (c === '"' && next === '"') i++;
      else if (c === '"') state = 'code';
    } else if (state === 'line-comment') {
      if (c === '\n') state = 'code';
    } else if (c === '*' && next === '/') (state = 'code'), i++;
    i++;
  }
  while (out.length < spans.length) out.push(state);
  return out;
}

/** `value` as a DuckDB literal, or why it cannot be one. */
export function sqlLiteral(value: unknown): { text: string } | { problem: string } {
  if (value === null || value === undefined) return { text: 'NULL' };
  if (typeof value === 'number') return Number.isFinite(value) ? { text: String(value) } : { problem: `is ${value}, which is not a SQL number` };
  if (typeof value === 'boolean') return { text: value ? 'TRUE' : 'FALSE' };
  if (typeof value === 'string') return { text: `'${value.replaceAll("'", "''")}'` };
  if (Array.isArray(value)) {
    const items = value.map(sqlLiteral);
    const bad = items.find((x): x is { problem: string } => 'problem' in x);
    if (bad || value.some((v) => v !== null && typeof v === 'object')) return { problem: 'is a list of lists or mappings, which is not a SQL list of literals' };
    return { text: `[${items.map((x) => (x as { text: string }).text).join(', ')}]` };
  }
  return { problem: 'is a mapping, which is not a SQL literal' };
}

/** What splicing a value in at one spot makes of it. */
export type SqlSplice = { value: unknown } | { raw: string } | undefined;

/**
 * Replaces each match of `re` (global) in `sql` by what `replace` says: `{ value }` lands as a SQL
 * literal in code, as its escaped characters inside '…' or "…", and as its text in a comment (where a
 * line end or `*\/` would end the comment, so those are a problem); `{ raw }` is pasted as it is;
 * undefined keeps the match. So a param can never add SQL syntax unless it was asked for raw.
 */
export function spliceIntoSql(
  sql: string,
  re: RegExp,
  replace: (match: RegExpMatchArray, index: number) => SqlSplice,
): { text: string; problems: Array<{ match: string; problem: string }> } {
  const matches = [...sql.matchAll(re)];
  const contexts = sqlContextsAt(sql, matches.map((m) => ({ start: m.index!, end: m.index! + m[0].length })));
  const problems: Array<{ match: string; problem: string }> = [];
  let text = '';
  let last = 0;
  matches.forEach((m, i) => {
    text += sql.slice(last, m.index);
    last = m.index! + m[0].length;
    const r = replace(m, i);
    if (r === undefined) return void (text += m[0]);
    if ('raw' in r) return void (text += r.raw);
    const spliced = spliceValue(r.value, contexts[i]!);
    if ('problem' in spliced) {
      problems.push({ match: m[0], problem: spliced.problem });
      text += m[0];
    } else text += spliced.text;
  });
  return { text: text + sql.slice(last), problems };
}

function spliceValue(value: unknown, context: SqlContext): { text: string } | { problem: string } {
  if (context === 'code') return sqlLiteral(value);
  const plain = typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (context === 'string') return { text: plain.replaceAll("'", "''") };
  if (context === 'identifier') return { text: plain.replaceAll('"', '""') };
  if (context === 'line-comment' && /[\r\n]/.test(plain)) return { problem: 'holds a line end, which would end the comment it is in' };
  if (context === 'block-comment' && plain.includes('*/')) return { problem: 'holds */, which would end the comment it is in' };
  return { text: plain };
}
