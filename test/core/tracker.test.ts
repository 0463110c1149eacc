import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, TrackerSchemaTooNewError, applyMigrations, type Migration, type SchemaVersioning } from '../../src/core/tracker/migrations.js';
import { openTracker, trackerPath, type OpenTrackerOptions } from '../../src/core/tracker/open-tracker.js';
import { TrackerBusyError, TrackerCorruptError, TrackerOpenError, TrackerWriteError } from '../../src/core/tracker/errors.js';
import type { SqlTracker } from '../../src/core/tracker/sql-tracker.js';
import type { SqliteBackend } from '../../src/core/tracker/sqlite-backend.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { point, run, trackerContract } from './tracker-contract.js';

let dir: string;
const open: Tracker[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-tracker-'));
});

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

const tracker = async (opts: OpenTrackerOptions = {}): Promise<Tracker> => {
  const t = await openTracker(dir, opts);
  open.push(t);
  return t;
};

describe('SQLite tracker: the contract', () => {
  trackerContract({ open: () => tracker() });
});

const raw = (): Database => new Sqlite(trackerPath(dir));
const connectionOf = (t: Tracker): Database => ((t as SqlTracker).sql as SqliteBackend).connection;

const bs3 = createRequire(import.meta.url).resolve('better-sqlite3');

/** A second process that takes the write lock, says "locked", and commits after `holdMs` or on a stdin line. */
async function holdWriteLock(holdMs?: number): Promise<ChildProcess> {
  const script = `
    const db = new (require(process.env.BS3))(process.env.DB);
    db.exec('BEGIN IMMEDIATE');
    const done = () => { db.exec('COMMIT'); db.close(); process.exit(0); };
    process.stdout.write('locked\\n');
    if (process.env.HOLD_MS) setTimeout(done, Number(process.env.HOLD_MS));
    else process.stdin.once('data', done);
  `;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, BS3: bs3, DB: trackerPath(dir), HOLD_MS: holdMs === undefined ? '' : String(holdMs) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
  });
  return child;
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** The schema as mlpipe 0.1 created it in plain SQL (user_version 1): databases in the field look like this. */
const SCHEMA_V1_SQL = `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    params TEXT NOT NULL DEFAULT '{}',
    git_commit TEXT,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    backend TEXT,
    sweep_id TEXT,
    error TEXT
  );
  CREATE INDEX runs_pipeline_started ON runs (pipeline, started_at);
  CREATE INDEX runs_started ON runs (started_at);
  CREATE INDEX runs_status_host ON runs (status, host);
  CREATE INDEX runs_sweep ON runs (sweep_id);

  CREATE TABLE stage_runs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    cache_key TEXT,
    cached_from TEXT,
    reason TEXT,
    started_at INTEGER,
    ended_at INTEGER,
    duration_ms INTEGER,
    error TEXT,
    key_material TEXT,
    PRIMARY KEY (run_id, stage)
  );
  CREATE INDEX stage_runs_stage ON stage_runs (stage);
  CREATE INDEX stage_runs_cache_key ON stage_runs (cache_key);

  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    key TEXT NOT NULL,
    step INTEGER,
    value REAL,
    time INTEGER NOT NULL
  );
  CREATE INDEX metrics_run ON metrics (run_id);

  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (run_id, stage, name)
  );
  CREATE INDEX artifacts_hash ON artifacts (hash);

  CREATE TABLE models (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    artifact_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  );
  CREATE INDEX models_artifact_hash ON models (artifact_hash);

  CREATE TABLE model_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES models (name, version)
  );

  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    set_at INTEGER NOT NULL,
    rolled_back_at INTEGER
  );
  CREATE INDEX alias_history_name_alias ON alias_history (name, alias);
  `;

const userVersionOf = (db: Kysely<any>) => sql<{ user_version: number }>`PRAGMA user_version`.execute(db).then((r) => r.rows[0]!.user_version);
const sqliteVersioning: SchemaVersioning = {
  read: userVersionOf,
  exclusive: (db, fn) => db.transaction().execute(fn),
  write: async (trx, v) => void (await sql.raw(`PRAGMA user_version = ${v}`).execute(trx)),
};

describe('SQLite tracker: opening and migrating', () => {
  it('migrates an empty file to the latest schema with WAL and the connection pragmas', async () => {
    writeFileSync(trackerPath(dir), '');
    const conn = connectionOf(await tracker());
    expect(conn.pragma('busy_timeout', { simple: true })).toBe(10000);
    expect(conn.pragma('synchronous', { simple: true })).toBe(1);
    expect(conn.pragma('foreign_keys', { simple: true })).toBe(1);
    const db = raw();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual(['alias_history', 'artifacts', 'metrics', 'model_aliases', 'models', 'run_tags', 'runs', 'stage_runs']);
    const indexes = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['runs_pipeline_started', 'stage_runs_stage', 'models_artifact_hash', 'metrics_run', 'run_tags_key_value']));
    db.close();
  });

  it('moves a database mlpipe 0.1 created (schema 1, plain SQL) forward, keeping its rows', async () => {
    const db = raw();
    db.exec(SCHEMA_V1_SQL);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO runs (id, pipeline, spec_path, spec_hash, status, started_at, params, host, pid) VALUES ('r-old', 'iris', 'p.yaml', 'h', 'completed', 5, '{\"lr\":0.1}', 'h1', 1)").run();
    db.prepare("INSERT INTO metrics (run_id, stage, key, step, value, time) VALUES ('r-old', 'train', 'loss', 0, 0.5, 5)").run();
    db.close();
    const t = await tracker();
    expect(await t.getRun('r-old')).toMatchObject({ params: { lr: 0.1 }, heartbeatAt: null, name: null, tags: {}, deletedAt: null });
    expect(await t.getMetrics('r-old')).toEqual([{ runId: 'r-old', stage: 'train', key: 'loss', step: 0, value: 0.5, time: 5 }]);
    await t.setRunTags('r-old', { owner: 'ana' });
    expect((await t.listRuns())[0]?.tags).toEqual({ owner: 'ana' });
    expect(raw().pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('creates the runs folder and keeps data across re-opens', async () => {
    rmSync(dir, { recursive: true });
    const first = await openTracker(join(dir, 'nested', 'runs'));
    await first.createRun(run('r-1', { params: { lr: 0.01 } }));
    await first.logMetrics([point('r-1', 'loss', 0, 0.5)]);
    await first.close();
    expect(existsSync(join(dir, 'nested', 'runs', 'tracker.db'))).toBe(true);
    const again = await openTracker(join(dir, 'nested', 'runs'));
    open.push(again);
    expect((await again.getRun('r-1'))?.params).toEqual({ lr: 0.01 });
    expect(await again.getMetrics('r-1')).toHaveLength(1);
  });

  it('opens sqlite:PATH and a plain path given as the tracker setting', async () => {
    const t = await tracker({ tracker: `sqlite:${join(dir, 'elsewhere.db')}` });
    expect(t.location).toBe(join(dir, 'elsewhere.db'));
    expect(existsSync(join(dir, 'elsewhere.db'))).toBe(true);
    expect((await tracker({ tracker: join(dir, 'plain.db') })).location).toBe(join(dir, 'plain.db'));
  });

  it('applies only the steps a database lacks, once', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(join(dir, 'm.db')) }) });
    const steps: Migration[] = [
      { name: 'a', up: (k) => k.schema.createTable('a').addColumn('x', 'text').execute() },
      { name: 'b', up: (k) => k.schema.createTable('b').addColumn('y', 'text').execute() },
    ];
    expect(await applyMigrations(db, 'sqlite', sqliteVersioning, steps.slice(0, 1))).toBe(1);
    expect(await applyMigrations(db, 'sqlite', sqliteVersioning, steps.slice(0, 1))).toBe(1);
    expect(await applyMigrations(db, 'sqlite', sqliteVersioning, steps)).toBe(2);
    expect(await applyMigrations(db, 'sqlite', sqliteVersioning, steps)).toBe(2);
    expect(await userVersionOf(db)).toBe(2);
    await db.destroy();
  });

  it('re-checks the version inside the exclusive transaction when another connection migrated first', async () => {
    const file = join(dir, 'race.db');
    const a = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(file) }) });
    const b = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(file) }) });
    const first: SchemaVersioning = {
      ...sqliteVersioning,
      exclusive: async (db, fn) => {
        await applyMigrations(b, 'sqlite', sqliteVersioning);
        return db.transaction().execute(fn);
      },
    };
    expect(await applyMigrations(a, 'sqlite', first)).toBe(MIGRATIONS.length);
    expect(await userVersionOf(a)).toBe(MIGRATIONS.length);
    await a.destroy();
    await b.destroy();
  });

  it('refuses a schema newer than it knows', async () => {
    const db = raw();
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const err = await openTracker(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect((err as Error).cause).toBeInstanceOf(TrackerSchemaTooNewError);
  });

  it('reports a file that is not a database as TrackerOpenError (exit 2, with a hint)', async () => {
    writeFileSync(trackerPath(dir), 'this is not sqlite, just some text that is long enough to look like a header '.repeat(10));
    const err = await openTracker(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect(err).toMatchObject({ exitCode: 2, hint: expect.stringContaining('--runs-dir') });
    expect((err as Error).message).toBe(`cannot open the tracker ${trackerPath(dir)}: file is not a database`);
  });
});

describe('SQLite tracker: another process holding the write lock', () => {
  it('waits for it instead of failing', async () => {
    const t = await tracker();
    await t.createRun(run('r'));
    const holder = await holdWriteLock(300);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(await t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
    expect(holder.exitCode).toBe(0);
  });

  it('retries a busy transaction with async backoff when the busy timeout is spent, and the event loop keeps turning', async () => {
    const t = await tracker({ busyTimeoutMs: 0 });
    await t.createRun(run('r'));
    const holder = await holdWriteLock(150);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(await t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
  });

  it('gives up with TrackerBusyError once the retries are spent', async () => {
    const t = await tracker({ busyTimeoutMs: 0, busyRetries: 1 });
    await t.createRun(run('r'));
    const holder = await holdWriteLock();
    await expect(t.logMetrics([point('r', 'loss', 0, 1)])).rejects.toThrow(TrackerBusyError);
    holder.stdin!.write('\n');
    await exited(holder);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(await t.getMetrics('r')).toHaveLength(1);
  });
});

describe('SQLite tracker: the real cause of a failure (issue 14.6, 14.7)', () => {
  it('a full disk is a TrackerWriteError saying so, and the records written before are intact', async () => {
    const t = await tracker();
    await t.createRun(run('r-1'));
    const conn = connectionOf(t);
    conn.pragma(`max_page_count = ${conn.pragma('page_count', { simple: true })}`);
    const big = run('r-2', { params: { blob: 'x'.repeat(64 * 1024) } });
    const err = await t.createRun(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerWriteError);
    expect((err as TrackerWriteError).message).toBe(`cannot write to the tracker ${trackerPath(dir)}: the disk is full (SQLITE_FULL)`);
    expect((err as TrackerWriteError).hint).toContain('free some space');
    expect((err as TrackerWriteError).hint).not.toContain('aside');
    expect((await t.listRuns()).map((r) => r.id)).toEqual(['r-1']);
  });

  it('a file that cannot be opened is not blamed on the file when the disk is full or the folder read-only', async () => {
    const full = new TrackerOpenError('t.db', { cause: Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }) });
    expect(full.hint).toMatch(/^the disk is full: free some space/);
    const damaged = new TrackerOpenError('t.db', { cause: Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }) });
    expect(damaged.hint).toMatch(/^if the file is damaged, keep a copy and move it aside/);
  });

  it('after an unclean shutdown (a WAL with frames left), quick_check refuses a damaged file; integrity_check finds it any time', async () => {
    const t = await tracker();
    await t.createRun(run('r-1'));
    expect(await t.checkIntegrity()).toEqual([]);
    await t.close();
    open.splice(0);
    const conn = raw();
    const { rootpage } = conn.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'models'").get() as { rootpage: number };
    const pageSize = conn.pragma('page_size', { simple: true }) as number;
    conn.close();
    const bytes = readFileSync(trackerPath(dir));
    bytes[(rootpage - 1) * pageSize] = 0x01;
    writeFileSync(trackerPath(dir), bytes);
    const reopened = await tracker();
    expect((await reopened.checkIntegrity()).join('\n')).toMatch(/page|btree|malformed/i);
    await reopened.close();
    open.splice(0);
    writeFileSync(`${trackerPath(dir)}-wal`, 'frames of a process that was killed');
    await expect(openTracker(dir)).rejects.toBeInstanceOf(TrackerCorruptError);
    await expect(openTracker(dir, { checkAfterUncleanShutdown: false })).resolves.toBeDefined();
  });
});
