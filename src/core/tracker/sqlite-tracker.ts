import Sqlite from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { hostname } from 'node:os';
import { isProcessAlive } from '../os/process-alive.js';
import { applyMigrations } from './migrations.js';
import type {
  ArtifactRecord,
  MetricPoint,
  ModelVersion,
  NewModelVersion,
  RegisterOptions,
  RunFilter,
  RunRecord,
  RunStatus,
  StageRunRecord,
  StageStatus,
  Tracker,
} from './types.js';

/** Tuning for a tracker connection; the defaults suit every caller but tests. */
export interface SqliteTrackerOptions {
  /** How long one statement waits for another process's write lock (SQLite busy_timeout). Default 10000. */
  busyTimeoutMs?: number;
  /** How many times a write transaction is retried after SQLITE_BUSY before giving up. Default 8. */
  busyRetries?: number;
}

/** The tracker database could not be opened or migrated. */
export class TrackerOpenError extends Error {
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(`cannot open the tracker database ${path}: ${String((options.cause as Error)?.message ?? options.cause)}; move the file aside or pass another --runs-dir`, options);
    this.name = 'TrackerOpenError';
  }
}

/** Another process held the tracker's write lock for longer than every retry allowed. */
export class TrackerBusyError extends Error {
  constructor(attempts: number, options: { cause: unknown }) {
    super(`the tracker database stayed locked by another process after ${attempts} attempts; retry when the other mlpipe command has finished`, options);
    this.name = 'TrackerBusyError';
  }
}

/** A run id that an update refers to is not in the tracker. */
export class RunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} is not in the tracker; list runs with: mlpipe runs list`);
    this.name = 'RunNotFoundError';
  }
}

/** A model version that an alias should point at is not registered. */
export class ModelVersionNotFoundError extends Error {
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`model ${model} has no version ${version}; list versions with: mlpipe models list`);
    this.name = 'ModelVersionNotFoundError';
  }
}

/** An explicit version number given to registerModel is already taken by another artifact. */
export class ModelVersionTakenError extends Error {
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`model ${model} version ${version} is already registered with another artifact; register without a version to get the next one`);
    this.name = 'ModelVersionTakenError';
  }
}

interface RunRow {
  id: string;
  pipeline: string;
  spec_path: string;
  spec_hash: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  params: string;
  git_commit: string | null;
  host: string;
  pid: number;
  backend: string | null;
  sweep_id: string | null;
  error: string | null;
}

interface StageRunRow {
  run_id: string;
  stage: string;
  kind: string;
  status: string;
  cache_key: string | null;
  cached_from: string | null;
  reason: string | null;
  started_at: number | null;
  ended_at: number | null;
  duration_ms: number | null;
  error: string | null;
  key_material: string | null;
}

interface ArtifactRow {
  run_id: string;
  stage: string;
  name: string;
  path: string;
  hash: string;
  size: number;
}

interface ModelRow {
  name: string;
  version: number;
  run_id: string;
  stage: string;
  artifact_hash: string;
  path: string;
  metrics: string;
  created_at: number;
}

const RUN_COLUMNS: Record<keyof Omit<RunRecord, 'id'>, string> = {
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
};

const toRun = (r: RunRow): RunRecord => ({
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
});

const toStageRun = (r: StageRunRow): StageRunRecord => ({
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
});

const toArtifact = (r: ArtifactRow): ArtifactRecord => ({
  runId: r.run_id,
  stage: r.stage,
  name: r.name,
  path: r.path,
  hash: r.hash,
  size: r.size,
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
});

const runValue = (key: keyof Omit<RunRecord, 'id'>, value: unknown): unknown =>
  key === 'params' ? JSON.stringify(value ?? {}) : (value ?? null);

const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

const isBusy = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function prepareStatements(db: Database) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, pipeline, spec_path, spec_hash, status, started_at, ended_at, params, git_commit, host, pid, backend, sweep_id, error)
       VALUES (@id, @pipeline, @specPath, @specHash, @status, @startedAt, @endedAt, @params, @gitCommit, @host, @pid, @backend, @sweepId, @error)`,
    ),
    getRun: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
    findRunIds: db.prepare<[number, string], { id: string }>(
      'SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC, rowid DESC',
    ),
    runningRuns: db.prepare<[string], { id: string; pid: number }>(
      "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?",
    ),
    interruptRun: db.prepare(
      `UPDATE runs SET status = 'interrupted', ended_at = @now,
         error = coalesce(error, 'process ' || pid || ' on ' || host || ' ended before the run finished')
       WHERE id = @id AND status = 'running'`,
    ),
    interruptStages: db.prepare(
      `UPDATE stage_runs SET status = 'interrupted', ended_at = coalesce(ended_at, @now)
       WHERE run_id = @id AND status IN ('running', 'pending')`,
    ),
    upsertStageRun: db.prepare(
      `INSERT INTO stage_runs (run_id, stage, kind, status, cache_key, cached_from, reason, started_at, ended_at, duration_ms, error, key_material)
       VALUES (@runId, @stage, @kind, @status, @cacheKey, @cachedFrom, @reason, @startedAt, @endedAt, @durationMs, @error, @keyMaterial)
       ON CONFLICT (run_id, stage) DO UPDATE SET
         kind = excluded.kind, status = excluded.status, cache_key = excluded.cache_key, cached_from = excluded.cached_from,
         reason = excluded.reason, started_at = excluded.started_at, ended_at = excluded.ended_at,
         duration_ms = excluded.duration_ms, error = excluded.error, key_material = excluded.key_material`,
    ),
    getStageRuns: db.prepare<[string], StageRunRow>('SELECT * FROM stage_runs WHERE run_id = ? ORDER BY rowid'),
    lastStageRun: db.prepare<[string, string], StageRunRow>(
      `SELECT s.* FROM stage_runs s JOIN runs r ON r.id = s.run_id
       WHERE r.pipeline = ? AND s.stage = ? AND s.status = 'completed' AND s.key_material IS NOT NULL
       ORDER BY r.started_at DESC, r.rowid DESC, s.rowid DESC LIMIT 1`,
    ),
    insertMetric: db.prepare('INSERT INTO metrics (run_id, stage, key, step, value, time) VALUES (?, ?, ?, ?, ?, ?)'),
    // Raw rows (arrays): comparing 1,000 runs reads ~60,000 points, and plain objects cost a third more.
    getMetrics: db.prepare<[string], [string, string, number | null, number | null, number]>('SELECT stage, key, step, value, time FROM metrics WHERE run_id = ? ORDER BY rowid').raw(true),
    upsertArtifact: db.prepare(
      `INSERT INTO artifacts (run_id, stage, name, path, hash, size) VALUES (@runId, @stage, @name, @path, @hash, @size)
       ON CONFLICT (run_id, stage, name) DO UPDATE SET path = excluded.path, hash = excluded.hash, size = excluded.size`,
    ),
    getArtifacts: db.prepare<[string], ArtifactRow>('SELECT * FROM artifacts WHERE run_id = ? ORDER BY rowid'),
    modelByHash: db.prepare<[string, string], ModelRow>(
      'SELECT * FROM models WHERE name = ? AND artifact_hash = ? ORDER BY version LIMIT 1',
    ),
    modelByVersion: db.prepare<[string, number], ModelRow>('SELECT * FROM models WHERE name = ? AND version = ?'),
    latestModel: db.prepare<[string], ModelRow>('SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1'),
    maxVersion: db.prepare<[string], { v: number }>('SELECT coalesce(max(version), 0) AS v FROM models WHERE name = ?'),
    insertModel: db.prepare(
      `INSERT INTO models (name, version, run_id, stage, artifact_hash, path, metrics, created_at)
       VALUES (@name, @version, @runId, @stage, @artifactHash, @path, @metrics, @createdAt)`,
    ),
    listModels: db.prepare<[], ModelRow>('SELECT * FROM models ORDER BY created_at DESC, name, version DESC'),
    listModelsOf: db.prepare<[string], ModelRow>('SELECT * FROM models WHERE name = ? ORDER BY version DESC'),
    aliasesOf: db.prepare<[string, number], { alias: string }>(
      'SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias',
    ),
    allAliases: db.prepare<[], { name: string; alias: string; version: number }>(
      'SELECT name, alias, version FROM model_aliases ORDER BY alias',
    ),
    aliasVersion: db.prepare<[string, string], { version: number }>(
      'SELECT version FROM model_aliases WHERE name = ? AND alias = ?',
    ),
    upsertAlias: db.prepare(
      `INSERT INTO model_aliases (name, alias, version, updated_at) VALUES (@name, @alias, @version, @now)
       ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
    ),
    insertAliasHistory: db.prepare(
      'INSERT INTO alias_history (name, alias, version, set_at) VALUES (@name, @alias, @version, @now)',
    ),
    activeAliasHistory: db.prepare<[string, string], { id: number; version: number }>(
      'SELECT id, version FROM alias_history WHERE name = ? AND alias = ? AND rolled_back_at IS NULL ORDER BY id DESC',
    ),
    markRolledBack: db.prepare('UPDATE alias_history SET rolled_back_at = ? WHERE id = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The SQLite implementation of the tracker: one connection, WAL, prepared statements. Calls are
 * queued one at a time on the connection (a registration awaits its files inside its transaction);
 * a write that finds the database locked waits in SQLite (busy_timeout), then retries with async
 * backoff — the event loop is never blocked by a retry.
 */
export class SqliteTracker implements Tracker {
  private readonly dynamic = new Map<string, Statement>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly db: Database,
    private readonly stmts: Statements,
    private readonly retries: number,
  ) {}

  get location(): string {
    return this.path;
  }

  /** Opens (creating and migrating when needed) a tracker database file. */
  static async open(path: string, options: SqliteTrackerOptions = {}): Promise<SqliteTracker> {
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    const retries = options.busyRetries ?? 8;
    let db: Database | undefined;
    try {
      db = new Sqlite(path, { timeout: busyTimeoutMs });
      const opened = db;
      await retryBusy(retries, () => opened.pragma('journal_mode = WAL'));
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      await applyMigrations(db, (fn) => retryBusy(retries, () => opened.transaction(fn).immediate()));
      return new SqliteTracker(path, db, prepareStatements(db), retries);
    } catch (err) {
      db?.close();
      if (err instanceof TrackerBusyError) throw err;
      throw new TrackerOpenError(path, { cause: err });
    }
  }

  /** Runs `fn` when every earlier call on this connection has finished. */
  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private read<T>(fn: () => T): Promise<T> {
    return this.serial(fn);
  }

  private write<T>(fn: () => T): Promise<T> {
    return this.serial(() => retryBusy(this.retries, () => this.db.transaction(fn).immediate()));
  }

  /** A write transaction whose body awaits (BEGIN IMMEDIATE … COMMIT, nothing else interleaved). */
  private writeAsync<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      await retryBusy(this.retries, () => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn();
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.serial(() => {
      if (this.db.open) this.db.close();
    });
  }

  markDeadRunsInterrupted(): Promise<string[]> {
    return this.write(() => {
      const now = Date.now();
      return this.stmts.runningRuns
        .all(hostname())
        .filter((r) => r.pid !== process.pid && !isProcessAlive(r.pid))
        .map((r) => r.id)
        .filter((id) => {
          if (this.stmts.interruptRun.run({ id, now }).changes === 0) return false;
          this.stmts.interruptStages.run({ id, now });
          return true;
        });
    });
  }

  async createRun(run: RunRecord): Promise<void> {
    await this.write(() =>
      this.stmts.insertRun.run({
        id: run.id,
        ...Object.fromEntries(
          (Object.keys(RUN_COLUMNS) as (keyof typeof RUN_COLUMNS)[]).map((k) => [k, runValue(k, run[k])]),
        ),
      }),
    );
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    const keys = (Object.keys(patch) as (keyof typeof RUN_COLUMNS)[]).filter(
      (k) => k in RUN_COLUMNS && patch[k] !== undefined,
    );
    if (keys.length === 0) {
      if (!(await this.getRun(id))) throw new RunNotFoundError(id);
      return;
    }
    const sql = `UPDATE runs SET ${keys.map((k) => `${RUN_COLUMNS[k]} = @${k}`).join(', ')} WHERE id = @id`;
    let stmt = this.dynamic.get(sql);
    if (!stmt) this.dynamic.set(sql, (stmt = this.db.prepare(sql)));
    const params = Object.fromEntries(keys.map((k) => [k, runValue(k, patch[k])]));
    const { changes } = await this.write(() => stmt.run({ ...params, id }));
    if (changes === 0) throw new RunNotFoundError(id);
  }

  async recordStageRun(s: StageRunRecord): Promise<void> {
    await this.write(() =>
      this.stmts.upsertStageRun.run({
        runId: s.runId,
        stage: s.stage,
        kind: s.kind,
        status: s.status,
        cacheKey: s.cacheKey ?? null,
        cachedFrom: s.cachedFrom ?? null,
        reason: s.reason ?? null,
        startedAt: s.startedAt ?? null,
        endedAt: s.endedAt ?? null,
        durationMs: s.durationMs ?? null,
        error: s.error ?? null,
        keyMaterial: jsonOrNull(s.keyMaterial),
      }),
    );
  }

  async logMetrics(points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    const insert = this.stmts.insertMetric;
    await this.write(() => {
      for (const p of points) insert.run(p.runId, p.stage, p.key, p.step, Number.isNaN(p.value) ? null : p.value, p.time);
    });
  }

  async recordArtifacts(artifacts: ArtifactRecord[]): Promise<void> {
    if (artifacts.length === 0) return;
    await this.write(() => {
      for (const a of artifacts) this.stmts.upsertArtifact.run({ ...a });
    });
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return this.read(() => {
      const row = this.stmts.getRun.get(id);
      return row && toRun(row);
    });
  }

  findRunIds(prefix: string): Promise<string[]> {
    return this.read(() => this.stmts.findRunIds.all(prefix.length, prefix).map((r) => r.id));
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    for (const [key, column] of [
      ['pipeline', 'pipeline'],
      ['status', 'status'],
      ['sweepId', 'sweep_id'],
    ] as const) {
      if (filter[key] === undefined) continue;
      where.push(`${column} = @${key}`);
      params[key] = filter[key];
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT @limit`;
    return this.read(() => {
      let stmt = this.dynamic.get(sql) as Statement<[Record<string, unknown>], RunRow> | undefined;
      if (!stmt) this.dynamic.set(sql, (stmt = this.db.prepare(sql)));
      return stmt.all({ ...params, limit: filter.limit ?? -1 }).map(toRun);
    });
  }

  getStageRuns(runId: string): Promise<StageRunRecord[]> {
    return this.read(() => this.stmts.getStageRuns.all(runId).map(toStageRun));
  }

  getMetrics(runId: string): Promise<MetricPoint[]> {
    return this.read(() =>
      this.stmts.getMetrics.all(runId).map(([stage, key, step, value, time]) => ({ runId, stage, key, step, value: value ?? Number.NaN, time })),
    );
  }

  getArtifacts(runId: string): Promise<ArtifactRecord[]> {
    return this.read(() => this.stmts.getArtifacts.all(runId).map(toArtifact));
  }

  lastStageRun(pipeline: string, stage: string): Promise<StageRunRecord | undefined> {
    return this.read(() => {
      const row = this.stmts.lastStageRun.get(pipeline, stage);
      return row && toStageRun(row);
    });
  }

  registerModel(m: NewModelVersion, opts: RegisterOptions = {}): Promise<ModelVersion & { created: boolean }> {
    return this.writeAsync(async () => {
      const existing = this.stmts.modelByHash.get(m.name, m.artifactHash);
      if (existing) {
        if (opts.alias) this.moveAlias(m.name, opts.alias, existing.version);
        return { ...this.withAliases(existing), created: false };
      }
      let version = m.version ?? this.stmts.maxVersion.get(m.name)!.v + 1;
      let path = m.path;
      if (this.stmts.modelByVersion.get(m.name, version)) throw new ModelVersionTakenError(m.name, version);
      if (opts.claim) {
        for (;;) {
          const claimed = this.stmts.modelByVersion.get(m.name, version) ? undefined : await opts.claim(version);
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
      };
      this.stmts.insertModel.run({
        name: row.name,
        version,
        runId: row.run_id,
        stage: row.stage,
        artifactHash: row.artifact_hash,
        path: row.path,
        metrics: row.metrics,
        createdAt: row.created_at,
      });
      if (opts.alias) this.moveAlias(m.name, opts.alias, version);
      return { ...this.withAliases(row), created: true };
    });
  }

  async setAlias(name: string, alias: string, version: number): Promise<void> {
    await this.write(() => this.moveAlias(name, alias, version));
  }

  private moveAlias(name: string, alias: string, version: number): void {
    if (!this.stmts.modelByVersion.get(name, version)) throw new ModelVersionNotFoundError(name, version);
    if (this.stmts.aliasVersion.get(name, alias)?.version === version) return;
    const now = Date.now();
    this.stmts.upsertAlias.run({ name, alias, version, now });
    this.stmts.insertAliasHistory.run({ name, alias, version, now });
  }

  rollbackAlias(name: string, alias: string): Promise<number | undefined> {
    return this.write(() => {
      const current = this.stmts.aliasVersion.get(name, alias)?.version;
      if (current === undefined) return undefined;
      const history = this.stmts.activeAliasHistory.all(name, alias);
      const target = history.findIndex((h) => h.version !== current);
      if (target < 0) return undefined;
      const now = Date.now();
      for (const h of history.slice(0, target)) this.stmts.markRolledBack.run(now, h.id);
      const version = history[target]!.version;
      this.stmts.upsertAlias.run({ name, alias, version, now });
      return version;
    });
  }

  getModel(name: string, ref?: string | number): Promise<ModelVersion | undefined> {
    return this.read(() => {
      let row: ModelRow | undefined;
      if (ref === undefined) row = this.stmts.latestModel.get(name);
      else if (typeof ref === 'number') row = this.stmts.modelByVersion.get(name, ref);
      else if (/^\d+$/.test(ref)) row = this.stmts.modelByVersion.get(name, Number(ref));
      else {
        const aliased = this.stmts.aliasVersion.get(name, ref);
        if (aliased) row = this.stmts.modelByVersion.get(name, aliased.version);
        else if (ref === 'latest') row = this.stmts.latestModel.get(name);
      }
      return row && this.withAliases(row);
    });
  }

  listModels(name?: string): Promise<ModelVersion[]> {
    return this.read(() => {
      const rows = name === undefined ? this.stmts.listModels.all() : this.stmts.listModelsOf.all(name);
      const aliases = new Map<string, string[]>();
      for (const a of this.stmts.allAliases.all()) {
        const key = `${a.name}\u0000${a.version}`;
        aliases.set(key, [...(aliases.get(key) ?? []), a.alias]);
      }
      return rows.map((r) => toModel(r, aliases.get(`${r.name}\u0000${r.version}`) ?? []));
    });
  }

  private withAliases(row: ModelRow): ModelVersion {
    return toModel(
      row,
      this.stmts.aliasesOf.all(row.name, row.version).map((a) => a.alias),
    );
  }
}

/** Runs `fn`, retrying with async exponential backoff while SQLite says the database is busy. */
async function retryBusy<T>(retries: number, fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (attempt >= retries) throw new TrackerBusyError(attempt + 1, { cause: err });
      await delay(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}
