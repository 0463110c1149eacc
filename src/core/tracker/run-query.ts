import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import { sql } from 'kysely';
import { didYouMean } from '../../schema/did-you-mean.js';
import { fieldsIn, parseRunFilter, parseRunOrder, RunFilterError, type Field } from './run-filter.js';
import { filterSql, orderSql, searchSql, type FilterSqlContext } from './run-filter-sql.js';
import type { TrackerDb } from './schema.js';
import type { RunFields, RunFilter } from './types.js';
import { metricKeyOf } from './metric-name.js';

/** A {@link RunFilter}'s search parts, parsed and compiled to SQL (before any query runs). */
export interface CompiledRunQuery {
  conditions: RawBuilder<SqlBool>[];
  order: RawBuilder<unknown>[];
  /** The params, metrics and tags the filter and ordering read, to check that some run has each. */
  fields: Field[];
  source: string;
}

/** Parses `where` and `orderBy` (throwing RunFilterError) and compiles them with `search` to SQL. */
export function compileRunQuery(filter: RunFilter, ctx: FilterSqlContext): CompiledRunQuery {
  const conditions: RawBuilder<SqlBool>[] = [];
  const fields: Field[] = [];
  const where = filter.where?.trim();
  if (where) {
    const expr = parseRunFilter(where);
    conditions.push(filterSql(expr, ctx).$castTo<SqlBool>());
    fields.push(...fieldsIn(expr));
  }
  const search = filter.search?.trim() ? searchSql(filter.search, ctx) : undefined;
  if (search) conditions.push(search.$castTo<SqlBool>());
  const orders = filter.orderBy?.trim() ? parseRunOrder(filter.orderBy) : [];
  fields.push(...orders.map((o) => o.field));
  return { conditions, order: orderSql(orders, ctx), fields, source: where ?? filter.orderBy ?? '' };
}

/** `select … from runs` with the filter's conditions (deleted runs left out unless asked for). */
export function selectRuns(db: Kysely<TrackerDb>, filter: RunFilter, query: CompiledRunQuery) {
  let q = db.selectFrom('runs');
  if (filter.pipeline !== undefined) q = q.where('pipeline', '=', filter.pipeline);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.sweepId !== undefined) q = q.where('sweep_id', '=', filter.sweepId);
  const deleted = filter.deleted ?? 'exclude';
  if (deleted === 'exclude') q = q.where('deleted_at', 'is', null);
  if (deleted === 'only') q = q.where('deleted_at', 'is not', null);
  for (const c of query.conditions) q = q.where(c);
  return q;
}

/**
 * A filter naming a param, final metric or tag that no run has is a typo far more often than a
 * question whose answer is "none": it is refused, naming the closest name the tracker holds.
 */
export async function checkFilterFields(db: Kysely<TrackerDb>, query: CompiledRunQuery, ctx: FilterSqlContext): Promise<void> {
  for (const field of query.fields) {
    if (field.kind === 'attribute') continue;
    let found: unknown;
    if (field.kind === 'param') {
      found = await db.selectFrom('runs').select(sql`1`.as('x')).where(filterSql({ type: 'null', field, negated: true, column: 0 }, ctx).$castTo<SqlBool>()).limit(1).executeTakeFirst();
    } else if (field.kind === 'metric') {
      found = await db.selectFrom('metrics').select('run_id').where('stage', '=', field.stage).where('key', '=', field.key).where('step', 'is', null).limit(1).executeTakeFirst();
    } else {
      found = await db.selectFrom('run_tags').select('run_id').where('key', '=', field.key).limit(1).executeTakeFirst();
    }
    if (found) continue;
    const known = await readRunFields(db);
    const names = field.kind === 'param' ? known.params.map((p) => `params.${p}`) : field.kind === 'metric' ? known.metrics.map((m) => `metrics.${m}`) : known.tags.map((t) => `tags.${t}`);
    const what = field.kind === 'param' ? 'param' : field.kind === 'metric' ? 'final metric' : 'tag';
    const hint = didYouMean(field.name, names) ?? (field.kind === 'metric' ? didYouMean(field.key, known.metrics.map(metricKeyOf)) : undefined);
    const listed = names.length ? ` (known: ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, and ${names.length - 20} more` : ''})` : ` (no run has any ${what})`;
    const at = query.source.indexOf(field.name);
    throw new RunFilterError(query.source, at >= 0 ? at + 1 : 0, `no run has the ${what} "${field.name}"${hint ? `; ${hint}` : ''}${listed}`);
  }
}

/** Every param (flattened), final metric and tag name in the tracker. */
export async function readRunFields(db: Kysely<TrackerDb>): Promise<RunFields> {
  const params = new Set<string>();
  for (const r of await db.selectFrom('runs').select('params').distinct().execute()) addParamNames(JSON.parse(r.params) as Record<string, unknown>, '', params);
  const metrics = (await db.selectFrom('metrics').select(['stage', 'key']).distinct().where('step', 'is', null).execute()).map((m) => `${m.stage}.${m.key}`);
  const tags = (await db.selectFrom('run_tags').select('key').distinct().execute()).map((t) => t.key);
  const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
  return { params: sorted(params), metrics: sorted(metrics), tags: sorted(tags) };
}

function addParamNames(obj: Record<string, unknown>, prefix: string, out: Set<string>): void {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) addParamNames(v as Record<string, unknown>, name, out);
    else out.add(name);
  }
}
