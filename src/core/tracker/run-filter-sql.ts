import { sql, type RawBuilder } from 'kysely';
import type { SqlDialectName } from './migrations.js';
import { ATTRIBUTES, type Field, type FilterExpr, type RunOrder } from './run-filter.js';

/**
 * Turns a parsed run filter (run-filter.ts) into SQL over the `runs` table, for SQLite and
 * PostgreSQL alike. Every value — numbers, strings, names, JSON paths, LIKE patterns — is a bound
 * parameter; only operators from fixed lists and column names from {@link ATTRIBUTES} become SQL
 * text. Missing values are NULL, so a run lacking a field a comparison reads is not matched
 * (`!=` and `not in` included), and `or` still matches through its other side.
 */
export interface FilterSqlContext {
  dialect: SqlDialectName;
  /** The insertion-order column of a table alias (rowid / seq), for "the last final value". */
  order(table: string): RawBuilder<number>;
}

type Sql = RawBuilder<unknown>;

const COMPARE: Record<string, string> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=': '=', '!=': '<>' };
const ARITH: Record<string, string> = { '+': '+', '-': '-', '*': '*' };

const num = (v: number): Sql => sql`cast(${v} as double precision)`;
const text = (v: string): Sql => sql`cast(${v} as text)`;

/** SQLite's JSON path of a param (`$."model"."units"`); PostgreSQL takes the segments as a text[]. */
const jsonPath = (path: readonly string[]): string => `$${path.map((s) => `."${s}"`).join('')}`;

function paramSql(path: readonly string[], as: 'number' | 'text', ctx: FilterSqlContext): Sql {
  if (ctx.dialect === 'sqlite') {
    const p = jsonPath(path);
    return as === 'number'
      ? sql`(case when json_type(runs.params, ${p}) in ('integer', 'real', 'true', 'false') then cast(json_extract(runs.params, ${p}) as double precision) end)`
      : sql`(case when json_type(runs.params, ${p}) = 'text' then json_extract(runs.params, ${p}) end)`;
  }
  const p = [...path];
  return as === 'number'
    ? sql`(case jsonb_typeof(runs.params::jsonb #> ${p}::text[]) when 'number' then (runs.params::jsonb #>> ${p}::text[])::double precision when 'boolean' then (case when (runs.params::jsonb #>> ${p}::text[]) = 'true' then 1.0 else 0.0 end) end)`
    : sql`(case when jsonb_typeof(runs.params::jsonb #> ${p}::text[]) = 'string' then runs.params::jsonb #>> ${p}::text[] end)`;
}

function paramMissing(path: readonly string[], ctx: FilterSqlContext): Sql {
  return ctx.dialect === 'sqlite'
    ? sql`coalesce(json_type(runs.params, ${jsonPath(path)}), 'null') = 'null'`
    : sql`coalesce(jsonb_typeof(runs.params::jsonb #> ${[...path]}::text[]), 'null') = 'null'`;
}

/** A field's value as SQL; params are read as numbers or as text, as the comparison needs. */
export function fieldSql(field: Field, as: 'number' | 'text', ctx: FilterSqlContext): Sql {
  switch (field.kind) {
    case 'param':
      return paramSql(field.path, as, ctx);
    case 'metric':
      return sql`(select m.value from metrics m where m.run_id = runs.id and m.stage = ${field.stage} and m.key = ${field.key} and m.step is null order by ${ctx.order('m')} desc limit 1)`;
    case 'tag':
      return sql`(select t.value from run_tags t where t.run_id = runs.id and t.key = ${field.key})`;
    case 'attribute': {
      const a = ATTRIBUTES[field.attribute];
      if (a.column === null) return sql`cast(runs.ended_at - runs.started_at as double precision)`;
      return a.type === 'number' ? sql`cast(${sql.ref(`runs.${a.column}`)} as double precision)` : sql.ref(`runs.${a.column}`);
    }
  }
}

function valueSql(e: FilterExpr, as: 'number' | 'text', ctx: FilterSqlContext): Sql {
  switch (e.type) {
    case 'number':
      return num(e.value);
    case 'string':
      return text(e.value);
    case 'field':
      return fieldSql(e.field, as, ctx);
    case 'neg':
      return sql`(-${valueSql(e.operand, 'number', ctx)})`;
    case 'arith': {
      const l = valueSql(e.left, 'number', ctx);
      const r = valueSql(e.right, 'number', ctx);
      // Division by zero is NULL on both databases (PostgreSQL would raise an error).
      return e.op === '/' ? sql`(${l} / nullif(${r}, 0))` : sql`(${l} ${sql.raw(ARITH[e.op]!)} ${r})`;
    }
    default:
      throw new Error(`not a value: ${e.type}`);
  }
}

/** The SQL condition of a filter (a WHERE clause over `runs`). */
export function filterSql(e: FilterExpr, ctx: FilterSqlContext): Sql {
  switch (e.type) {
    case 'logic':
      return sql`(${filterSql(e.left, ctx)} ${sql.raw(e.op === 'and' ? 'and' : 'or')} ${filterSql(e.right, ctx)})`;
    case 'not':
      return sql`(not ${filterSql(e.operand, ctx)})`;
    case 'compare':
      return sql`(${valueSql(e.left, e.mode, ctx)} ${sql.raw(COMPARE[e.op]!)} ${valueSql(e.right, e.mode, ctx)})`;
    case 'in': {
      const list = sql.join(e.values.map((v) => (typeof v === 'number' ? num(v) : text(v))));
      return sql`(${valueSql(e.operand, e.mode, ctx)} ${sql.raw(e.negated ? 'not in' : 'in')} (${list}))`;
    }
    case 'like': {
      const like = sql.raw(`${e.negated ? 'not ' : ''}${ctx.dialect === 'postgresql' ? 'ilike' : 'like'}`);
      return sql`(${valueSql(e.operand, 'text', ctx)} ${like} ${e.pattern} escape '\\')`;
    }
    case 'null': {
      const missing = e.field.kind === 'param' ? paramMissing(e.field.path, ctx) : sql`${fieldSql(e.field, 'number', ctx)} is null`;
      return e.negated ? sql`(not (${missing}))` : sql`(${missing})`;
    }
    default:
      throw new Error(`not a condition: ${e.type}`);
  }
}

/**
 * ORDER BY terms for an ordering, missing values last in either direction (SQLite and PostgreSQL
 * put NULL at opposite ends by default). A param sorts its numbers first, then its strings.
 */
export function orderSql(orders: readonly RunOrder[], ctx: FilterSqlContext): Sql[] {
  const dir = (d: 'asc' | 'desc') => sql.raw(d === 'desc' ? 'desc' : 'asc');
  return orders.flatMap(({ field, dir: d }) => {
    if (field.kind === 'param') {
      const n = paramSql(field.path, 'number', ctx);
      const t = paramSql(field.path, 'text', ctx);
      return [sql`(case when ${n} is null and ${t} is null then 1 else 0 end)`, sql`(case when ${n} is null then 1 else 0 end)`, sql`${n} ${dir(d)}`, textOrder(t, d, ctx)];
    }
    const kind = field.kind === 'metric' || (field.kind === 'attribute' && ATTRIBUTES[field.attribute].type === 'number') ? 'number' : 'text';
    const v = fieldSql(field, kind, ctx);
    return [sql`(case when ${v} is null then 1 else 0 end)`, kind === 'text' ? textOrder(v, d, ctx) : sql`${v} ${dir(d)}`];
  });
}

/** Text in code-point order on both databases (PostgreSQL's default collation follows the locale). */
function textOrder(v: Sql, d: 'asc' | 'desc', ctx: FilterSqlContext): Sql {
  const dir = sql.raw(d === 'desc' ? 'desc' : 'asc');
  return ctx.dialect === 'postgresql' ? sql`${v} collate "C" ${dir}` : sql`${v} ${dir}`;
}

/** `%`, `_` and `\` of a search word, escaped for LIKE … ESCAPE '\'. */
const likeWord = (w: string): string => `%${w.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Free-text search: every word must appear (case-insensitively) in the run's id, name, pipeline,
 * status, sweep, commit, error, params (as JSON text), a tag key or value, or a failed stage's
 * name or error.
 */
export function searchSql(text: string, ctx: FilterSqlContext): Sql | undefined {
  const words = text.split(/\s+/).filter(Boolean).slice(0, 20);
  if (!words.length) return undefined;
  const like = (col: Sql, w: string) => sql`lower(coalesce(${col}, '')) like ${likeWord(w)} escape '\\'`;
  return sql.join(
    words.map((w) => {
      const cols = ['id', 'name', 'note', 'pipeline', 'status', 'sweep_id', 'git_commit', 'error'].map((c) => like(sql.ref(`runs.${c}`), w));
      return sql`(${sql.join([...cols, like(sql`runs.params`, w)], sql` or `)}
        or exists (select 1 from run_tags t where t.run_id = runs.id and (${like(sql`t.key`, w)} or ${like(sql`t.value`, w)}))
        or exists (select 1 from stage_runs s where s.run_id = runs.id and s.status = 'failed' and (${like(sql`s.stage`, w)} or ${like(sql`s.error`, w)})))`;
    }),
    sql` and `,
  );
}
