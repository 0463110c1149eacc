import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, TrackerSchemaTooNewError, applyMigrations } from '../../src/core/tracker/migrations.js';
import { openTracker, trackerPath } from '../../src/core/tracker/open-tracker.js';
import {
  ModelVersionNotFoundError,
  ModelVersionTakenError,
  RunNotFoundError,
  SqliteTracker,
  TrackerBusyError,
  TrackerOpenError,
} from '../../src/core/tracker/sqlite-tracker.js';
import type { MetricPoint, RunRecord, StageRunRecord, Tracker } from '../../src/core/tracker/types.js';

let dir: string;
const open: Tracker[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-tracker-'));
});

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

const track = (t: Tracker): Tracker => {
  open.push(t);
  return t;
};
const tracker = async (): Promise<Tracker> => track(await openTracker(dir));

const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id,
  pipeline: 'iris',
  specPath: 'pipelines/iris/pipeline.yaml',
  specHash: 'h-spec',
  status: 'completed',
  startedAt: 1000,
  endedAt: null,
  params: {},
  gitCommit: null,
  host: hostname(),
  pid: process.pid,
  backend: null,
  sweepId: null,
  error: null,
  ...over,
});

const stage = (runId: string, name: string, over: Partial<StageRunRecord> = {}): StageRunRecord => ({
  runId,
  stage: name,
  kind: 'train',
  status: 'completed',
  cacheKey: `key-${runId}-${name}`,
  cachedFrom: null,
  reason: 'new',
  startedAt: 1,
  endedAt: 2,
  durationMs: 1,
  error: null,
  keyMaterial: { config: { epochs: 3 } },
  ...over,
});

const point = (runId: string, key: string, step: number | null, value: number): MetricPoint => ({
  runId,
  stage: 'train',
  key,
  step,
  value,
  time: 5,
});

const raw = (): Database => new Sqlite(trackerPath(dir));

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

describe('opening and migrating', () => {
  it('migrates an empty file to the latest schema with WAL and the connection pragmas', async () => {
    writeFileSync(trackerPath(dir), '');
    const t = await tracker();
    const conn = (t as unknown as { db: Database }).db;
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
    expect(tables).toEqual(['alias_history', 'artifacts', 'metrics', 'model_aliases', 'models', 'runs', 'stage_runs']);
    const indexes = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => r.name);
    expect(indexes).toEqual(
      expect.arrayContaining(['runs_pipeline_started', 'stage_runs_stage', 'models_artifact_hash', 'metrics_run']),
    );
    db.close();
  });

  it('creates the runs folder and keeps data across re-opens', async () => {
    rmSync(dir, { recursive: true });
    const first = await openTracker(join(dir, 'nested', 'runs'));
    await first.createRun(run('r-1', { params: { lr: 0.01 } }));
    await first.logMetrics([point('r-1', 'loss', 0, 0.5)]);
    await first.close();
    expect(existsSync(join(dir, 'nested', 'runs', 'tracker.db'))).toBe(true);
    const again = track(await openTracker(join(dir, 'nested', 'runs')));
    expect((await again.getRun('r-1'))?.params).toEqual({ lr: 0.01 });
    expect(await again.getMetrics('r-1')).toHaveLength(1);
  });

  it('applies only the steps a database lacks, once', async () => {
    const db = new Sqlite(join(dir, 'm.db'));
    const write = <T>(fn: () => T): T => db.transaction(fn).immediate();
    const steps = ['CREATE TABLE a (x)', 'CREATE TABLE b (y)'];
    expect(await applyMigrations(db, write, steps.slice(0, 1))).toBe(1);
    expect(await applyMigrations(db, write, steps.slice(0, 1))).toBe(1);
    expect(await applyMigrations(db, write, steps)).toBe(2);
    expect(await applyMigrations(db, write, steps)).toBe(2);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
  });

  it('re-checks the version inside the write lock when another connection migrated first', async () => {
    const file = join(dir, 'race.db');
    const a = new Sqlite(file);
    const b = new Sqlite(file);
    const writeB = <T>(fn: () => T): T => b.transaction(fn).immediate();
    const writeA = async <T>(fn: () => T): Promise<T> => {
      await applyMigrations(b, writeB);
      return a.transaction(fn).immediate();
    };
    expect(await applyMigrations(a, writeA)).toBe(MIGRATIONS.length);
    expect(a.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    a.close();
    b.close();
  });

  it('refuses a schema newer than it knows', async () => {
    const db = raw();
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const err = await openTracker(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect((err as Error).cause).toBeInstanceOf(TrackerSchemaTooNewError);
  });

  it('reports a file that is not a database as TrackerOpenError', async () => {
    writeFileSync(trackerPath(dir), 'this is not sqlite, just some text that is long enough to look like a header '.repeat(10));
    await expect(openTracker(dir)).rejects.toThrow(TrackerOpenError);
  });
});

describe('runs', () => {
  it('round-trips a run with JSON params and patches it', async () => {
    const t = await tracker();
    const params = { lr: 0.001, layers: [16, 32], opt: { name: 'adam', beta: [0.9, 0.999] }, note: 'ünïcödé 中文', flag: true, none: null };
    await t.createRun(run('r-1', { status: 'running', params, gitCommit: 'abc123', backend: 'wasm', sweepId: 's-1' }));
    expect(await t.getRun('r-1')).toEqual(run('r-1', { status: 'running', params, gitCommit: 'abc123', backend: 'wasm', sweepId: 's-1' }));
    await t.updateRun('r-1', { status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 } });
    expect(await t.getRun('r-1')).toMatchObject({ status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 }, backend: 'wasm' });
    await t.updateRun('r-1', { error: null, backend: undefined });
    expect(await t.getRun('r-1')).toMatchObject({ error: null, backend: 'wasm' });
    expect(await t.getRun('nope')).toBeUndefined();
    await expect(t.updateRun('nope', { status: 'completed' })).rejects.toThrow(RunNotFoundError);
    await expect(t.updateRun('nope', {})).rejects.toThrow(RunNotFoundError);
  });

  it('finds ids by literal, case-sensitive prefix', async () => {
    const t = await tracker();
    for (const id of ['r-7f3a1', 'r-7f3b2', 'r-8000', 'R-7f_x', 'r-7%z']) await t.createRun(run(id));
    expect((await t.findRunIds('r-7f3')).sort()).toEqual(['r-7f3a1', 'r-7f3b2']);
    expect(await t.findRunIds('r-7f3a')).toEqual(['r-7f3a1']);
    expect(await t.findRunIds('r-7_')).toEqual([]);
    expect(await t.findRunIds('r-7%')).toEqual(['r-7%z']);
    expect(await t.findRunIds('x')).toEqual([]);
  });

  it('lists runs newest first with filters and a limit', async () => {
    const t = await tracker();
    await t.createRun(run('a', { startedAt: 1 }));
    await t.createRun(run('b', { startedAt: 3, pipeline: 'other' }));
    await t.createRun(run('c', { startedAt: 2, status: 'failed', sweepId: 's' }));
    await t.createRun(run('d', { startedAt: 2, sweepId: 's' }));
    const ids = async (f?: Parameters<Tracker['listRuns']>[0]) => (await t.listRuns(f)).map((r) => r.id);
    expect(await ids()).toEqual(['b', 'd', 'c', 'a']);
    expect(await ids({ pipeline: 'iris' })).toEqual(['d', 'c', 'a']);
    expect(await ids({ status: 'failed' })).toEqual(['c']);
    expect(await ids({ sweepId: 's' })).toEqual(['d', 'c']);
    expect(await ids({ pipeline: 'iris', limit: 2 })).toEqual(['d', 'c']);
    expect(await ids({ pipeline: 'none' })).toEqual([]);
  });
});

describe('stage runs, metrics and artifacts', () => {
  it('inserts or replaces stage runs by (run, stage) and keeps their order', async () => {
    const t = await tracker();
    await t.createRun(run('r'));
    await t.recordStageRun(stage('r', 'prepare', { kind: 'preprocess', status: 'running', keyMaterial: undefined }));
    await t.recordStageRun(stage('r', 'train', { status: 'pending', cacheKey: null, startedAt: null, endedAt: null, durationMs: null }));
    await t.recordStageRun(stage('r', 'prepare', { kind: 'preprocess', cachedFrom: 'r-old', keyMaterial: { files: { 'a.csv': 'h1' }, list: [1, 'x'] } }));
    const stages = await t.getStageRuns('r');
    expect(stages.map((s) => [s.stage, s.status])).toEqual([
      ['prepare', 'completed'],
      ['train', 'pending'],
    ]);
    expect(stages[0]).toEqual(stage('r', 'prepare', { kind: 'preprocess', cachedFrom: 'r-old', keyMaterial: { files: { 'a.csv': 'h1' }, list: [1, 'x'] } }));
    expect(stages[1]).toMatchObject({ cacheKey: null, startedAt: null });
    expect(await t.getStageRuns('none')).toEqual([]);
  });

  it('finds the newest completed stage run with key material of a pipeline', async () => {
    const t = await tracker();
    await t.createRun(run('old', { startedAt: 1 }));
    await t.createRun(run('new', { startedAt: 5 }));
    await t.createRun(run('tie', { startedAt: 5 }));
    await t.createRun(run('failed', { startedAt: 9 }));
    await t.createRun(run('other', { startedAt: 10, pipeline: 'other' }));
    await t.recordStageRun(stage('old', 'train', { keyMaterial: { v: 'old' } }));
    await t.recordStageRun(stage('new', 'train', { keyMaterial: { v: 'new' } }));
    await t.recordStageRun(stage('tie', 'train', { keyMaterial: { v: 'tie' } }));
    await t.recordStageRun(stage('tie', 'evaluate', { keyMaterial: undefined }));
    await t.recordStageRun(stage('failed', 'train', { status: 'failed', keyMaterial: { v: 'failed' } }));
    await t.recordStageRun(stage('other', 'train', { keyMaterial: { v: 'other' } }));
    expect((await t.lastStageRun('iris', 'train'))?.keyMaterial).toEqual({ v: 'tie' });
    expect((await t.lastStageRun('other', 'train'))?.runId).toBe('other');
    expect(await t.lastStageRun('iris', 'evaluate')).toBeUndefined();
    expect(await t.lastStageRun('iris', 'deploy')).toBeUndefined();
  });

  it('logs metric points in one transaction and reads them back exactly', async () => {
    const t = await tracker();
    await t.createRun(run('r'));
    const points = [
      point('r', 'loss', 0, 0.9),
      point('r', 'loss', 1, 0.5),
      point('r', 'accuracy', null, 0.93),
      point('r', 'diverged', 2, Number.NaN),
      point('r', 'big', 3, Number.POSITIVE_INFINITY),
    ];
    await t.logMetrics(points);
    await t.logMetrics([]);
    expect(await t.getMetrics('r')).toEqual(points);
    await expect(t.logMetrics([point('r', 'x', 0, 1), point('missing-run', 'x', 0, 1)])).rejects.toThrow(/FOREIGN KEY/);
    expect(await t.getMetrics('r')).toHaveLength(points.length);
  });

  it('records artifacts, replacing by (run, stage, name)', async () => {
    const t = await tracker();
    await t.createRun(run('r'));
    await t.recordArtifacts([
      { runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h1', size: 10 },
      { runId: 'r', stage: 'prepare', name: 'dataset', path: 'runs/r/prepare/dataset', hash: 'h2', size: 20 },
    ]);
    await t.recordArtifacts([{ runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h3', size: 11 }]);
    await t.recordArtifacts([]);
    expect(await t.getArtifacts('r')).toEqual([
      { runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h3', size: 11 },
      { runId: 'r', stage: 'prepare', name: 'dataset', path: 'runs/r/prepare/dataset', hash: 'h2', size: 20 },
    ]);
  });
});

describe('dead runs', () => {
  it('marks running runs of this host whose process is gone, and only those', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await exited(dead);
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(live);
    const t = await tracker();
    await t.createRun(run('dead', { status: 'running', pid: dead.pid! }));
    await t.createRun(run('live', { status: 'running', pid: live.pid! }));
    await t.createRun(run('mine', { status: 'running', pid: process.pid }));
    await t.createRun(run('elsewhere', { status: 'running', pid: dead.pid!, host: `${hostname()}-other` }));
    await t.createRun(run('finished', { status: 'completed', pid: dead.pid! }));
    await t.recordStageRun(stage('dead', 'prepare', { status: 'completed', endedAt: 7 }));
    await t.recordStageRun(stage('dead', 'train', { status: 'running', endedAt: null }));
    await t.recordStageRun(stage('dead', 'evaluate', { status: 'pending', endedAt: null }));
    await t.recordStageRun(stage('live', 'train', { status: 'running' }));

    expect(await t.markDeadRunsInterrupted()).toEqual(['dead']);
    expect(await t.markDeadRunsInterrupted()).toEqual([]);

    const status = async (id: string) => (await t.getRun(id))?.status;
    expect(await status('dead')).toBe('interrupted');
    expect((await t.getRun('dead'))?.endedAt).toEqual(expect.any(Number));
    expect((await t.getRun('dead'))?.error).toContain(String(dead.pid));
    expect(await Promise.all([status('live'), status('mine'), status('elsewhere'), status('finished')])).toEqual(['running', 'running', 'running', 'completed']);
    expect((await t.getStageRuns('dead')).map((s) => [s.stage, s.status, s.endedAt === null])).toEqual([
      ['prepare', 'completed', false],
      ['train', 'interrupted', false],
      ['evaluate', 'interrupted', false],
    ]);
    expect((await t.getStageRuns('dead'))[0]?.endedAt).toBe(7);
    expect((await t.getStageRuns('live'))[0]?.status).toBe('running');
  });
});

describe('model registry', () => {
  const model = (hash: string, name = 'iris') => ({
    name,
    runId: 'r',
    stage: 'deploy',
    artifactHash: hash,
    path: `runs/models/${name}/${hash}`,
    metrics: { accuracy: 0.9, f1: 0.85 },
  });

  it('numbers versions, de-duplicates by artifact hash and honours an explicit version', async () => {
    const t = await tracker();
    const v1 = await t.registerModel(model('h1'));
    expect(v1).toMatchObject({ ...model('h1'), version: 1, aliases: [], created: true });
    expect(v1.createdAt).toEqual(expect.any(Number));
    expect(await t.registerModel(model('h2'))).toMatchObject({ version: 2, created: true });
    expect(await t.registerModel({ ...model('h1'), path: 'elsewhere' })).toMatchObject({ version: 1, created: false, path: 'runs/models/iris/h1' });
    expect(await t.registerModel(model('h1', 'other'))).toMatchObject({ name: 'other', version: 1, created: true });
    expect(await t.registerModel({ ...model('h5'), version: 5 })).toMatchObject({ version: 5, created: true });
    await expect(t.registerModel({ ...model('h6'), version: 5 })).rejects.toThrow(ModelVersionTakenError);
    expect((await t.getModel('iris', 1))?.metrics).toEqual({ accuracy: 0.9, f1: 0.85 });
  });

  it('resolves versions, numeric strings, aliases and latest', async () => {
    const t = await tracker();
    await t.registerModel(model('h1'));
    await t.registerModel(model('h2'));
    await t.setAlias('iris', 'production', 1);
    await t.setAlias('iris', 'staging', 1);
    expect((await t.getModel('iris'))?.version).toBe(2);
    expect((await t.getModel('iris', 'latest'))?.version).toBe(2);
    expect((await t.getModel('iris', 1))?.aliases).toEqual(['production', 'staging']);
    expect((await t.getModel('iris', '2'))?.version).toBe(2);
    expect((await t.getModel('iris', 'production'))?.version).toBe(1);
    expect(await t.getModel('iris', 'canary')).toBeUndefined();
    expect(await t.getModel('iris', 3)).toBeUndefined();
    expect(await t.getModel('nope')).toBeUndefined();
    await expect(t.setAlias('iris', 'production', 9)).rejects.toThrow(ModelVersionNotFoundError);
  });

  it('rolls an alias back through its distinct previous holders', async () => {
    const t = await tracker();
    for (const h of ['h1', 'h2', 'h3']) await t.registerModel(model(h));
    expect(await t.rollbackAlias('iris', 'production')).toBeUndefined();
    await t.setAlias('iris', 'production', 1);
    expect(await t.rollbackAlias('iris', 'production')).toBeUndefined();
    await t.setAlias('iris', 'production', 2);
    await t.setAlias('iris', 'production', 2);
    await t.setAlias('iris', 'production', 3);
    expect(await t.rollbackAlias('iris', 'production')).toBe(2);
    expect((await t.getModel('iris', 'production'))?.version).toBe(2);
    expect(await t.rollbackAlias('iris', 'production')).toBe(1);
    expect(await t.rollbackAlias('iris', 'production')).toBeUndefined();
    expect((await t.getModel('iris', 'production'))?.version).toBe(1);
    await t.setAlias('iris', 'production', 3);
    expect(await t.rollbackAlias('iris', 'production')).toBe(1);
  });

  it('lists models newest first with their aliases', async () => {
    const t = await tracker();
    await t.registerModel(model('h1'));
    await t.registerModel(model('h2'));
    await t.registerModel(model('x1', 'other'));
    await t.setAlias('iris', 'production', 1);
    await t.setAlias('other', 'production', 1);
    await t.setAlias('iris', 'canary', 2);
    await t.setAlias('iris', 'a-first', 2);
    expect((await t.listModels('iris')).map((m) => [m.version, m.aliases])).toEqual([
      [2, ['a-first', 'canary']],
      [1, ['production']],
    ]);
    const all = await t.listModels();
    expect(all).toHaveLength(3);
    expect(all.find((m) => m.name === 'other')?.aliases).toEqual(['production']);
    const created = all.map((m) => m.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(await t.listModels('none')).toEqual([]);
  });
});

describe('concurrency', () => {
  it('lets two trackers on one file write interleaved and see each other', async () => {
    const a = await tracker();
    const b = await tracker();
    for (let i = 0; i < 20; i++) {
      const [w, id] = i % 2 === 0 ? [a, `a-${i}`] : [b, `b-${i}`];
      await w.createRun(run(id, { startedAt: i }));
      await w.logMetrics([point(id, 'loss', 0, i), point(id, 'loss', 1, i / 2)]);
      (i % 2 === 0 ? b : a).recordStageRun(stage(id, 'train'));
    }
    await a.registerModel({ name: 'm', runId: 'a-0', stage: 'deploy', artifactHash: 'x', path: 'p', metrics: {} });
    expect((await b.registerModel({ name: 'm', runId: 'b-1', stage: 'deploy', artifactHash: 'y', path: 'p', metrics: {} })).version).toBe(2);
    expect((await a.listRuns()).map((r) => r.id)).toEqual((await b.listRuns()).map((r) => r.id));
    expect(await b.listRuns()).toHaveLength(20);
    expect(await a.getMetrics('b-19')).toHaveLength(2);
    expect(await b.getStageRuns('b-19')).toHaveLength(1);
  });

  it('waits for another process holding the write lock instead of failing', async () => {
    const t = await tracker();
    await t.createRun(run('r'));
    const holder = await holdWriteLock(300);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(await t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
    expect(holder.exitCode).toBe(0);
  });

  it('retries a busy write transaction with backoff when the busy timeout is spent', async () => {
    await (await tracker()).close();
    const t = track(await SqliteTracker.open(trackerPath(dir), { busyTimeoutMs: 0 }));
    await t.createRun(run('r'));
    const holder = await holdWriteLock(100);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(await t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
  });

  it('gives up with TrackerBusyError once the retries are spent', async () => {
    await (await tracker()).close();
    const t = track(await SqliteTracker.open(trackerPath(dir), { busyTimeoutMs: 0, busyRetries: 1 }));
    await t.createRun(run('r'));
    const holder = await holdWriteLock();
    await expect(t.logMetrics([point('r', 'loss', 0, 1)])).rejects.toThrow(TrackerBusyError);
    holder.stdin!.write('\n');
    await exited(holder);
    await t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(await t.getMetrics('r')).toHaveLength(1);
  });
});
