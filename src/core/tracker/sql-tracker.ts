import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import { isProcessAlive } from '../os/process-alive.js';
import { ModelVersionNotFoundError, ModelVersionTakenError, RunNotFoundError } from './errors.js';
import type { SqlBackend } from './sql-backend.js';
import { RunFilterError } from './run-filter.js';
import { checkFilterFields, compileRunQuery, readRunFields, selectRuns } from './run-query.js';
import type { ModelsTable, RunsTable, StageRunsTable, TrackerDb } from './schema.js';
import {
  DEFAULT_LEASE_MS,
  type ArtifactRecord,
  type DeadRunOptions,
  type MetricPoint,
  type ModelVersion,
  type NewModelVersion,
  type NondeterministicOutputs,
  type RegisterOptions,
  type RunFields,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type StageRunRecord,
  type StageStatus,
  type Tracker,
} from './types.js';

type RunRow = Selectable<RunsTable>;
type ModelRow = Selectable<ModelsTable>;
type Db = Kysely<TrackerDb>;

/** RunRecord fields → `runs` columns (tags live in `run_tags`). */
const RUN_COLUMNS = {
  pipeline: 'pipeline',
  specPath: 'spec_path',
  specHash: 'spec_hash',
  status: 'status',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  params: 'params',
  gitCommit: 'git_commit',
  host: 'host',
  pid: 'pid',
  backend: 'backend',
  sweepId: 'sweep_id',
  error: 'error',
  name: 'name',
  note: 'note',
  heartbeatAt: 'heartbeat_at',
  deletedAt: 'deleted_at',
} as const satisfies Record<keyof Omit<RunRecord, 'id' | 'tags'>, keyof RunsTable>;

type RunField = keyof typeof RUN_COLUMNS;

const toRun = (r: RunRow, tags: Record<string, string> = {}): RunRecord => ({
  id: r.id,
  pipeline: r.pipeline,
  specPath: r.spec_path,
  specHash: r.spec_hash,
  status: r.status as RunStatus,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  params: JSON.parse(r.params) as Record<string, unknown>,
  gitCommit: r.git_commit,
  host: r.host,
  pid: r.pid,
  backend: r.backend,
  sweepId: r.sweep_id,
  error: r.error,
  name: r.name,
  note: r.note,
  tags,
  heartbeatAt: r.heartbeat_at,
  deletedAt: r.deleted_at,
});

const toStageRun = (r: Selectable<StageRunsTable>): StageRunRecord => ({
  runId: r.run_id,
  stage: r.stage,
  kind: r.kind,
  status: r.status as StageStatus,
  cacheKey: r.cache_key,
  cachedFrom: r.cached_from,
  reason: r.reason,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  durationMs: r.duration_ms,
  error: r.error,
  ...(r.key_material === null ? {} : { keyMaterial: JSON.parse(r.key_material) as unknown }),
  ...(r.nondeterministic === null ? {} : { nondeterministic: JSON.parse(r.nondeterministic) as NondeterministicOutputs }),
});

const toModel = (r: ModelRow, aliases: string[]): ModelVersion => ({
  name: r.name,
  version: r.version,
  runId: r.run_id,
  stage: r.stage,
  artifactHash: r.artifact_hash,
  path: r.path,
  metrics: JSON.parse(r.metrics) as Record<string, number>,
  aliases,
  createdAt: r.created_at,
  description: r.description,
});

const runValue = (key: RunField, value: unknown): unknown => (key === 'params' ? JSON.stringify(value ?? {}) : (value ?? null));

const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/**
 * The tracker on a SQL database, written once with Kysely for SQLite and PostgreSQL alike; what
 * differs (connections, locks, insertion order, the metric fast path) is the {@link SqlBackend}'s.
 */
export class SqlTracker implements Tracker {
  private closing: Promise<void> | undefined;

  constructor(private readonly backend: SqlBackend) {}

  get location(): string {
    return this.backend.location;
  }

  /** The backend (tests read SQLite pragmas through it). */
  get sql(): SqlBackend {
    return this.backend;
  }

  checkIntegrity(): Promise<string[]> {
    return this.backend.checkIntegrity();
  }

  /** Closes this tracker's hold on the connection (once, however often it is called). */
  close(): Promise<void> {
    this.closing ??= this.backend.close();
    return this.closing;
  }

  async markDeadRunsInterrupted(opts: DeadRunOptions = {}): Promise<string[]> {
    const now = opts.now ?? Date.now();
    const lease = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const here = hostname();
    const running = await this.backend.read((db) =>
      db.selectFrom('runs').select(['id', 'host', 'pid', 'heartbeat_at', 'started_at']).where('status', '=', 'running').execute(),
    );
    const dead = running.flatMap((r) => {
      if (r.host === here) {
        if (r.pid === process.pid || isProcessAlive(r.pid)) return [];
        return [{ id: r.id, why: `process ${r.pid} on ${r.host} ended before the run finished` }];
      }
      const last = r.heartbeat_at ?? r.started_at;
      if (now - last <= lease) return [];
      return [{ id: r.id, why: `no heartbeat from process ${r.pid} on ${r.host} since ${new Date(last).toISOString()}; taken for dead after ${Math.round(lease / 1000)} s` }];
    });
    if (dead.length === 0) return [];
    return this.backend.write(async (trx) => {
      const marked: string[] = [];
      for (const { id, why } of dead) {
        const current = await trx.selectFrom('runs').select(['status', 'heartbeat_at', 'error']).where('id', '=', id).executeTakeFirst();
        const stillRunning = current?.status === 'running' && (current.heartbeat_at ?? null) === (running.find((r) => r.id === id)!.heartbeat_at ?? null);
        if (!stillRunning) continue;
        await trx.updateTable('runs').set({ status: 'interrupted', ended_at: now, error: current.error ?? why }).where('id', '=', id).execute();
        await trx
          .updateTable('stage_runs')
          .set((eb) => ({ status: 'interrupted', ended_at: eb.fn.coalesce('ended_at', eb.val(now)) }))
          .where('run_id', '=', id)
          .where('status', 'in', ['running', 'pending'])
          .execute();
        marked.push(id);
      }
      return marked;
    });
  }

  async heartbeat(runId: string, at = Date.now()): Promise<void> {
    await this.backend.write((trx) => trx.updateTable('runs').set({ heartbeat_at: at }).where('id', '=', runId).execute());
  }

  async createRun(run: RunRecord): Promise<void> {
    const row = Object.fromEntries((Object.keys(RUN_COLUMNS) as RunField[]).map((k) => [RUN_COLUMNS[k], runValue(k, run[k])])) as Omit<RunsTable, 'id'>;
    row.heartbeat_at ??= run.startedAt;
    await this.backend.write(async (trx) => {
      await trx.insertInto('runs').values({ ...row, id: run.id }).execute();
      await writeTags(trx, run.id, run.tags ?? {});
    });
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id' | 'tags'>>): Promise<void> {
    const keys = (Object.keys(patch) as RunField[]).filter((k) => k in RUN_COLUMNS && patch[k] !== undefined);
    const changed = await this.backend.write(async (trx) => {
      if (keys.length === 0) return (await trx.selectFrom('runs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
      const set = Object.fromEntries(keys.map((k) => [RUN_COLUMNS[k], runValue(k, patch[k])])) as Partial<RunsTable>;
      const result = await trx.updateTable('runs').set(set).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
    if (!changed) throw new RunNotFoundError(id);
  }

  async setRunTags(runId: string, tags: Record<string, string | null>): Promise<void> {
    const found = await this.backend.write(async (trx) => {
      if (!(await trx.selectFrom('runs').select('id').where('id', '=', runId).executeTakeFirst())) return false;
      await writeTags(trx, runId, tags);
      return true;
    });
    if (!found) throw new RunNotFoundError(runId);
  }

  async recordStageRun(s: StageRunRecord): Promise<void> {
    const row = {
      run_id: s.runId,
      stage: s.stage,
      kind: s.kind,
      status: s.status,
      cache_key: s.cacheKey ?? null,
      cached_from: s.cachedFrom ?? null,
      reason: s.reason ?? null,
      started_at: s.startedAt ?? null,
      ended_at: s.endedAt ?? null,
      duration_ms: s.durationMs ?? null,
      error: s.error ?? null,
      key_material: jsonOrNull(s.keyMaterial),
      nondeterministic: s.nondeterministic ? JSON.stringify(s.nondeterministic) : null,
    };
    const { run_id: _r, stage: _s, ...update } = row;
    await this.backend.write((trx) =>
      trx
        .insertInto('stage_runs')
        .values(row)
        .onConflict((oc) => oc.columns(['run_id', 'stage']).doUpdateSet(update))
        .execute(),
    );
  }

  async logMetrics(points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    const rows = points.map((p) => ({ run_id: p.runId, stage: p.stage, key: p.key, step: p.step, value: Number.isNaN(p.value) ? null : p.value, time: p.time }));
    await this.backend.write((trx) => this.backend.insertMetrics(trx, rows));
  }

  async recordArtifacts(artifacts: ArtifactRecord[]): Promise<void> {
    if (artifacts.length === 0) return;
    await this.backend.write(async (trx) => {
      for (const a of artifacts) {
        await trx
          .insertInto('artifacts')
          .values({ run_id: a.runId, stage: a.stage, name: a.name, path: a.path, hash: a.hash, size: a.size })
          .onConflict((oc) => oc.columns(['run_id', 'stage', 'name']).doUpdateSet({ path: a.path, hash: a.hash, size: a.size }))
          .execute();
      }
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.backend.read(async (db) => {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRun(row, (await readTags(db, [id])).get(id));
    });
  }

  findRunIds(prefix: string): Promise<string[]> {
    return this.backend.read(async (db) =>
      (
        await db
          .selectFrom('runs')
          .select('id')
          .where((eb) => eb(eb.fn('substr', ['id', eb.val(1), eb.val(prefix.length)]), '=', prefix))
          .orderBy('started_at', 'desc')
          .orderBy(this.backend.order('runs'), 'desc')
          .execute()
      ).map((r) => r.id),
    );
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const query = compileRunQuery(filter, this.backend);
    return this.readQuery(filter, async (db) => {
      await checkFilterFields(db, query, this.backend);
      let q = selectRuns(db, filter, query).selectAll();
      for (const term of query.order) q = q.orderBy(term);
      q = q.orderBy('started_at', 'desc').orderBy(this.backend.order('runs'), 'desc');
      if (filter.limit !== undefined) q = q.limit(filter.limit);
      else if (filter.offset && this.backend.dialect === 'sqlite') q = q.limit(-1); // SQLite has no OFFSET without LIMIT
      if (filter.offset) q = q.offset(filter.offset);
      const rows = await q.execute();
      const tags = await readTags(db, rows.map((r) => r.id));
      return rows.map((r) => toRun(r, tags.get(r.id)));
    });
  }

  async countRuns(filter: RunFilter = {}): Promise<number> {
    const query = compileRunQuery(filter, this.backend);
    return this.readQuery(filter, async (db) => {
      await checkFilterFields(db, query, this.backend);
      const row = await selectRuns(db, filter, query)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    });
  }

  runFields(): Promise<RunFields> {
    return this.backend.read((db) => readRunFields(db));
  }

  getFinalMetrics(runIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    return this.backend.read(async (db) => {
      const out = new Map<string, Record<string, number>>(runIds.map((id) => [id, {}]));
      for (let i = 0; i < runIds.length; i += TAG_QUERY_CHUNK) {
        const rows = await db
          .selectFrom('metrics')
          .select(['run_id', 'stage', 'key', 'value'])
          .where('run_id', 'in', runIds.slice(i, i + TAG_QUERY_CHUNK))
          .where('step', 'is', null)
          .orderBy(this.backend.order('metrics'))
          .execute();
        for (const r of rows) out.get(r.run_id)![`${r.stage}.${r.key}`] = r.value ?? Number.NaN;
      }
      return out;
    });
  }

  /** A read of a filtered query: a value PostgreSQL cannot compute (overflow) is the filter's fault, not a crash. */
  private async readQuery<T>(filter: RunFilter, fn: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await this.backend.read(fn);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22') && (filter.where || filter.orderBy)) {
        throw new RunFilterError(filter.where ?? filter.orderBy ?? '', 0, `the database could not compute it: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  getStageRuns(runId: string): Promise<StageRunRecord[]> {
    return this.backend.read(async (db) =>
      (await db.selectFrom('stage_runs').selectAll().where('run_id', '=', runId).orderBy(this.backend.order('stage_runs')).execute()).map(toStageRun),
    );
  }

  getMetrics(runId: string): Promise<MetricPoint[]> {
    return this.backend.read(async (db) =>
      (
        await db
          .selectFrom('metrics')
          .select(['stage', 'key', 'step', 'value', 'time'])
          .where('run_id', '=', runId)
          .orderBy(this.backend.order('metrics'))
          .execute()
      ).map((r) => ({ runId, stage: r.stage, key: r.key, step: r.step, value: r.value ?? Number.NaN, time: r.time })),
    );
  }

  getArtifacts(runId: string): Promise<ArtifactRecord[]> {
    return this.backend.read(async (db) =>
      (await db.selectFrom('artifacts').selectAll().where('run_id', '=', runId).orderBy(this.backend.order('artifacts')).execute()).map((r) => ({
        runId: r.run_id,
        stage: r.stage,
        name: r.name,
        path: r.path,
        hash: r.hash,
        size: r.size,
      })),
    );
  }

  lastStageRun(pipeline: string, stage: string): Promise<StageRunRecord | undefined> {
    return this.backend.read(async (db) => {
      const row = await db
        .selectFrom('stage_runs as s')
        .innerJoin('runs as r', 'r.id', 's.run_id')
        .selectAll('s')
        .where('r.pipeline', '=', pipeline)
        .where('s.stage', '=', stage)
        .where('s.status', '=', 'completed')
        .where('s.key_material', 'is not', null)
        .orderBy('r.started_at', 'desc')
        .orderBy(this.backend.order('r'), 'desc')
        .orderBy(this.backend.order('s'), 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && toStageRun(row);
    });
  }

  registerModel(m: NewModelVersion, opts: RegisterOptions = {}): Promise<ModelVersion & { created: boolean }> {
    return this.backend.write(async (trx) => {
      await this.backend.lockModel(trx, m.name);
      const existing = await trx.selectFrom('models').selectAll().where('name', '=', m.name).where('artifact_hash', '=', m.artifactHash).orderBy('version').limit(1).executeTakeFirst();
      if (existing) {
        if (opts.alias) await moveAlias(trx, m.name, opts.alias, existing.version);
        if (m.description !== undefined && m.description !== existing.description) {
          await trx.updateTable('models').set({ description: m.description }).where('name', '=', m.name).where('version', '=', existing.version).execute();
          existing.description = m.description;
        }
        return { ...(await withAliases(trx, existing)), created: false };
      }
      const taken = async (v: number) => (await trx.selectFrom('models').select('version').where('name', '=', m.name).where('version', '=', v).executeTakeFirst()) !== undefined;
      const max = await trx.selectFrom('models').select((eb) => eb.fn.max<number | null>('version').as('v')).where('name', '=', m.name).executeTakeFirst();
      let version = m.version ?? Number(max?.v ?? 0) + 1;
      if (await taken(version)) throw new ModelVersionTakenError(m.name, version);
      let path = m.path;
      if (opts.claim) {
        for (;;) {
          const claimed = (await taken(version)) ? undefined : await opts.claim(version);
          if (claimed !== undefined) {
            path = claimed;
            break;
          }
          if (m.version !== undefined) throw new ModelVersionTakenError(m.name, version);
          version++;
        }
      }
      const row: ModelRow = {
        name: m.name,
        version,
        run_id: m.runId,
        stage: m.stage,
        artifact_hash: m.artifactHash,
        path,
        metrics: JSON.stringify(m.metrics ?? {}),
        created_at: Date.now(),
        description: m.description ?? null,
      };
      await trx.insertInto('models').values(row).execute();
      if (opts.alias) await moveAlias(trx, m.name, opts.alias, version);
      return { ...(await withAliases(trx, row)), created: true };
    });
  }

  async setAlias(name: string, alias: string, version: number): Promise<void> {
    await this.backend.write(async (trx) => {
      await this.backend.lockModel(trx, name);
      await moveAlias(trx, name, alias, version);
    });
  }

  rollbackAlias(name: string, alias: string): Promise<number | undefined> {
    return this.backend.write(async (trx) => {
      await this.backend.lockModel(trx, name);
      const current = (await trx.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', alias).executeTakeFirst())?.version;
      if (current === undefined) return undefined;
      const history = await trx
        .selectFrom('alias_history')
        .select(['id', 'version'])
        .where('name', '=', name)
        .where('alias', '=', alias)
        .where('rolled_back_at', 'is', null)
        .orderBy('id', 'desc')
        .execute();
      const target = history.findIndex((h) => h.version !== current);
      if (target < 0) return undefined;
      const now = Date.now();
      const undone = history.slice(0, target).map((h) => h.id!);
      if (undone.length) await trx.updateTable('alias_history').set({ rolled_back_at: now }).where('id', 'in', undone).execute();
      const version = history[target]!.version;
      await trx.updateTable('model_aliases').set({ version, updated_at: now }).where('name', '=', name).where('alias', '=', alias).execute();
      return version;
    });
  }

  removeAlias(name: string, alias: string): Promise<number | undefined> {
    return this.backend.write(async (trx) => {
      await this.backend.lockModel(trx, name);
      const held = await trx.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', alias).executeTakeFirst();
      if (!held) return undefined;
      await trx.deleteFrom('model_aliases').where('name', '=', name).where('alias', '=', alias).execute();
      await trx.updateTable('alias_history').set({ rolled_back_at: Date.now() }).where('name', '=', name).where('alias', '=', alias).where('rolled_back_at', 'is', null).execute();
      return held.version;
    });
  }

  async describeModel(name: string, version: number, description: string | null): Promise<void> {
    const result = await this.backend.write((trx) => trx.updateTable('models').set({ description }).where('name', '=', name).where('version', '=', version).executeTakeFirst());
    if (Number(result.numUpdatedRows) === 0) throw new ModelVersionNotFoundError(name, version);
  }

  getModel(name: string, ref?: string | number): Promise<ModelVersion | undefined> {
    return this.backend.read(async (db) => {
      const latest = () => db.selectFrom('models').selectAll().where('name', '=', name).orderBy('version', 'desc').limit(1).executeTakeFirst();
      const byVersion = (v: number) => db.selectFrom('models').selectAll().where('name', '=', name).where('version', '=', v).executeTakeFirst();
      let row: ModelRow | undefined;
      if (ref === undefined) row = await latest();
      else if (typeof ref === 'number') row = await byVersion(ref);
      else if (/^\d+$/.test(ref)) row = await byVersion(Number(ref));
      else {
        const aliased = await db.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', ref).executeTakeFirst();
        if (aliased) row = await byVersion(aliased.version);
        else if (ref === 'latest') row = await latest();
      }
      return row && withAliases(db, row);
    });
  }

  listModels(name?: string): Promise<ModelVersion[]> {
    return this.backend.read(async (db) => {
      const rows =
        name === undefined
          ? await db.selectFrom('models').selectAll().orderBy('created_at', 'desc').orderBy('name').orderBy('version', 'desc').execute()
          : await db.selectFrom('models').selectAll().where('name', '=', name).orderBy('version', 'desc').execute();
      let aliasQuery = db.selectFrom('model_aliases').select(['name', 'alias', 'version']).orderBy('alias');
      if (name !== undefined) aliasQuery = aliasQuery.where('name', '=', name);
      const aliases = new Map<string, string[]>();
      for (const a of await aliasQuery.execute()) {
        const key = `${a.name}\u0000${a.version}`;
        aliases.set(key, [...(aliases.get(key) ?? []), a.alias]);
      }
      return rows.map((r) => toModel(r, aliases.get(`${r.name}\u0000${r.version}`) ?? []));
    });
  }
}

async function moveAlias(trx: Db, name: string, alias: string, version: number): Promise<void> {
  if (!(await trx.selectFrom('models').select('version').where('name', '=', name).where('version', '=', version).executeTakeFirst())) {
    throw new ModelVersionNotFoundError(name, version);
  }
  const held = await trx.selectFrom('model_aliases').select('version').where('name', '=', name).where('alias', '=', alias).executeTakeFirst();
  if (held?.version === version) return;
  const now = Date.now();
  await trx
    .insertInto('model_aliases')
    .values({ name, alias, version, updated_at: now })
    .onConflict((oc) => oc.columns(['name', 'alias']).doUpdateSet({ version, updated_at: now }))
    .execute();
  await trx.insertInto('alias_history').values({ name, alias, version, set_at: now, rolled_back_at: null }).execute();
}

async function withAliases(db: Db, row: ModelRow): Promise<ModelVersion> {
  const aliases = await db.selectFrom('model_aliases').select('alias').where('name', '=', row.name).where('version', '=', row.version).orderBy('alias').execute();
  return toModel(row, aliases.map((a) => a.alias));
}

async function writeTags(trx: Db, runId: string, tags: Record<string, string | null>): Promise<void> {
  for (const [key, value] of Object.entries(tags)) {
    if (value === null) await trx.deleteFrom('run_tags').where('run_id', '=', runId).where('key', '=', key).execute();
    else await trx.insertInto('run_tags').values({ run_id: runId, key, value }).onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value })).execute();
  }
}

const TAG_QUERY_CHUNK = 500;

async function readTags(db: Db, runIds: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < runIds.length; i += TAG_QUERY_CHUNK) {
    const chunk = runIds.slice(i, i + TAG_QUERY_CHUNK);
    for (const t of await db.selectFrom('run_tags').select(['run_id', 'key', 'value']).where('run_id', 'in', chunk).orderBy('key').execute()) {
      let tags = out.get(t.run_id);
      if (!tags) out.set(t.run_id, (tags = {}));
      tags[t.key] = t.value;
    }
  }
  return out;
}
