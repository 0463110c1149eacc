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

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-tracker-'));
});

afterEach(() => {
  for (const t of open.splice(0)) t.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

const track = (t: Tracker): Tracker => {
  open.push(t);
  return t;
};
const tracker = (): Tracker => track(openTracker(dir));

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
  it('migrates an empty file to the latest schema with WAL and the connection pragmas', () => {
    writeFileSync(trackerPath(dir), '');
    const t = tracker();
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

  it('creates the runs folder and keeps data across re-opens', () => {
    rmSync(dir, { recursive: true });
    const first = openTracker(join(dir, 'nested', 'runs'));
    first.createRun(run('r-1', { params: { lr: 0.01 } }));
    first.logMetrics([point('r-1', 'loss', 0, 0.5)]);
    first.close();
    expect(existsSync(join(dir, 'nested', 'runs', 'tracker.db'))).toBe(true);
    const again = track(openTracker(join(dir, 'nested', 'runs')));
    expect(again.getRun('r-1')?.params).toEqual({ lr: 0.01 });
    expect(again.getMetrics('r-1')).toHaveLength(1);
  });

  it('applies only the steps a database lacks, once', () => {
    const db = new Sqlite(join(dir, 'm.db'));
    const write = <T>(fn: () => T): T => db.transaction(fn).immediate();
    const steps = ['CREATE TABLE a (x)', 'CREATE TABLE b (y)'];
    expect(applyMigrations(db, write, steps.slice(0, 1))).toBe(1);
    expect(applyMigrations(db, write, steps.slice(0, 1))).toBe(1);
    expect(applyMigrations(db, write, steps)).toBe(2);
    expect(applyMigrations(db, write, steps)).toBe(2);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
  });

  it('re-checks the version inside the write lock when another connection migrated first', () => {
    const file = join(dir, 'race.db');
    const a = new Sqlite(file);
    const b = new Sqlite(file);
    const writeB = <T>(fn: () => T): T => b.transaction(fn).immediate();
    const writeA = <T>(fn: () => T): T => {
      applyMigrations(b, writeB);
      return a.transaction(fn).immediate();
    };
    expect(applyMigrations(a, writeA)).toBe(MIGRATIONS.length);
    expect(a.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    a.close();
    b.close();
  });

  it('refuses a schema newer than it knows', () => {
    const db = raw();
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const err = (() => {
      try {
        openTracker(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect((err as Error).cause).toBeInstanceOf(TrackerSchemaTooNewError);
  });

  it('reports a file that is not a database as TrackerOpenError', () => {
    writeFileSync(trackerPath(dir), 'this is not sqlite, just some text that is long enough to look like a header '.repeat(10));
    expect(() => openTracker(dir)).toThrow(TrackerOpenError);
  });
});

describe('runs', () => {
  it('round-trips a run with JSON params and patches it', () => {
    const t = tracker();
    const params = { lr: 0.001, layers: [16, 32], opt: { name: 'adam', beta: [0.9, 0.999] }, note: 'ünïcödé 中文', flag: true, none: null };
    t.createRun(run('r-1', { status: 'running', params, gitCommit: 'abc123', backend: 'wasm', sweepId: 's-1' }));
    expect(t.getRun('r-1')).toEqual(run('r-1', { status: 'running', params, gitCommit: 'abc123', backend: 'wasm', sweepId: 's-1' }));
    t.updateRun('r-1', { status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 } });
    expect(t.getRun('r-1')).toMatchObject({ status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 }, backend: 'wasm' });
    t.updateRun('r-1', { error: null, backend: undefined });
    expect(t.getRun('r-1')).toMatchObject({ error: null, backend: 'wasm' });
    expect(t.getRun('nope')).toBeUndefined();
    expect(() => t.updateRun('nope', { status: 'completed' })).toThrow(RunNotFoundError);
    expect(() => t.updateRun('nope', {})).toThrow(RunNotFoundError);
  });

  it('finds ids by literal, case-sensitive prefix', () => {
    const t = tracker();
    for (const id of ['r-7f3a1', 'r-7f3b2', 'r-8000', 'R-7f_x', 'r-7%z']) t.createRun(run(id));
    expect(t.findRunIds('r-7f3').sort()).toEqual(['r-7f3a1', 'r-7f3b2']);
    expect(t.findRunIds('r-7f3a')).toEqual(['r-7f3a1']);
    expect(t.findRunIds('r-7_')).toEqual([]);
    expect(t.findRunIds('r-7%')).toEqual(['r-7%z']);
    expect(t.findRunIds('x')).toEqual([]);
  });

  it('lists runs newest first with filters and a limit', () => {
    const t = tracker();
    t.createRun(run('a', { startedAt: 1 }));
    t.createRun(run('b', { startedAt: 3, pipeline: 'other' }));
    t.createRun(run('c', { startedAt: 2, status: 'failed', sweepId: 's' }));
    t.createRun(run('d', { startedAt: 2, sweepId: 's' }));
    const ids = (f?: Parameters<Tracker['listRuns']>[0]) => t.listRuns(f).map((r) => r.id);
    expect(ids()).toEqual(['b', 'd', 'c', 'a']);
    expect(ids({ pipeline: 'iris' })).toEqual(['d', 'c', 'a']);
    expect(ids({ status: 'failed' })).toEqual(['c']);
    expect(ids({ sweepId: 's' })).toEqual(['d', 'c']);
    expect(ids({ pipeline: 'iris', limit: 2 })).toEqual(['d', 'c']);
    expect(ids({ pipeline: 'none' })).toEqual([]);
  });
});

describe('stage runs, metrics and artifacts', () => {
  it('inserts or replaces stage runs by (run, stage) and keeps their order', () => {
    const t = tracker();
    t.createRun(run('r'));
    t.recordStageRun(stage('r', 'prepare', { kind: 'preprocess', status: 'running', keyMaterial: undefined }));
    t.recordStageRun(stage('r', 'train', { status: 'pending', cacheKey: null, startedAt: null, endedAt: null, durationMs: null }));
    t.recordStageRun(stage('r', 'prepare', { kind: 'preprocess', cachedFrom: 'r-old', keyMaterial: { files: { 'a.csv': 'h1' }, list: [1, 'x'] } }));
    const stages = t.getStageRuns('r');
    expect(stages.map((s) => [s.stage, s.status])).toEqual([
      ['prepare', 'completed'],
      ['train', 'pending'],
    ]);
    expect(stages[0]).toEqual(stage('r', 'prepare', { kind: 'preprocess', cachedFrom: 'r-old', keyMaterial: { files: { 'a.csv': 'h1' }, list: [1, 'x'] } }));
    expect(stages[1]).toMatchObject({ cacheKey: null, startedAt: null });
    expect(t.getStageRuns('none')).toEqual([]);
  });

  it('finds the newest completed stage run with key material of a pipeline', () => {
    const t = tracker();
    t.createRun(run('old', { startedAt: 1 }));
    t.createRun(run('new', { startedAt: 5 }));
    t.createRun(run('tie', { startedAt: 5 }));
    t.createRun(run('failed', { startedAt: 9 }));
    t.createRun(run('other', { startedAt: 10, pipeline: 'other' }));
    t.recordStageRun(stage('old', 'train', { keyMaterial: { v: 'old' } }));
    t.recordStageRun(stage('new', 'train', { keyMaterial: { v: 'new' } }));
    t.recordStageRun(stage('tie', 'train', { keyMaterial: { v: 'tie' } }));
    t.recordStageRun(stage('tie', 'evaluate', { keyMaterial: undefined }));
    t.recordStageRun(stage('failed', 'train', { status: 'failed', keyMaterial: { v: 'failed' } }));
    t.recordStageRun(stage('other', 'train', { keyMaterial: { v: 'other' } }));
    expect(t.lastStageRun('iris', 'train')?.keyMaterial).toEqual({ v: 'tie' });
    expect(t.lastStageRun('other', 'train')?.runId).toBe('other');
    expect(t.lastStageRun('iris', 'evaluate')).toBeUndefined();
    expect(t.lastStageRun('iris', 'deploy')).toBeUndefined();
  });

  it('logs metric points in one transaction and reads them back exactly', () => {
    const t = tracker();
    t.createRun(run('r'));
    const points = [
      point('r', 'loss', 0, 0.9),
      point('r', 'loss', 1, 0.5),
      point('r', 'accuracy', null, 0.93),
      point('r', 'diverged', 2, Number.NaN),
      point('r', 'big', 3, Number.POSITIVE_INFINITY),
    ];
    t.logMetrics(points);
    t.logMetrics([]);
    expect(t.getMetrics('r')).toEqual(points);
    expect(() => t.logMetrics([point('r', 'x', 0, 1), point('missing-run', 'x', 0, 1)])).toThrow(/FOREIGN KEY/);
    expect(t.getMetrics('r')).toHaveLength(points.length);
  });

  it('records artifacts, replacing by (run, stage, name)', () => {
    const t = tracker();
    t.createRun(run('r'));
    t.recordArtifacts([
      { runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h1', size: 10 },
      { runId: 'r', stage: 'prepare', name: 'dataset', path: 'runs/r/prepare/dataset', hash: 'h2', size: 20 },
    ]);
    t.recordArtifacts([{ runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h3', size: 11 }]);
    t.recordArtifacts([]);
    expect(t.getArtifacts('r')).toEqual([
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
    const t = tracker();
    t.createRun(run('dead', { status: 'running', pid: dead.pid! }));
    t.createRun(run('live', { status: 'running', pid: live.pid! }));
    t.createRun(run('mine', { status: 'running', pid: process.pid }));
    t.createRun(run('elsewhere', { status: 'running', pid: dead.pid!, host: `${hostname()}-other` }));
    t.createRun(run('finished', { status: 'completed', pid: dead.pid! }));
    t.recordStageRun(stage('dead', 'prepare', { status: 'completed', endedAt: 7 }));
    t.recordStageRun(stage('dead', 'train', { status: 'running', endedAt: null }));
    t.recordStageRun(stage('dead', 'evaluate', { status: 'pending', endedAt: null }));
    t.recordStageRun(stage('live', 'train', { status: 'running' }));

    expect(t.markDeadRunsInterrupted()).toEqual(['dead']);
    expect(t.markDeadRunsInterrupted()).toEqual([]);

    const status = (id: string) => t.getRun(id)?.status;
    expect(status('dead')).toBe('interrupted');
    expect(t.getRun('dead')?.endedAt).toEqual(expect.any(Number));
    expect(t.getRun('dead')?.error).toContain(String(dead.pid));
    expect([status('live'), status('mine'), status('elsewhere'), status('finished')]).toEqual(['running', 'running', 'running', 'completed']);
    expect(t.getStageRuns('dead').map((s) => [s.stage, s.status, s.endedAt === null])).toEqual([
      ['prepare', 'completed', false],
      ['train', 'interrupted', false],
      ['evaluate', 'interrupted', false],
    ]);
    expect(t.getStageRuns('dead')[0]?.endedAt).toBe(7);
    expect(t.getStageRuns('live')[0]?.status).toBe('running');
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

  it('numbers versions, de-duplicates by artifact hash and honours an explicit version', () => {
    const t = tracker();
    expect(t.nextModelVersion('iris')).toBe(1);
    const v1 = t.registerModel(model('h1'));
    expect(v1).toMatchObject({ ...model('h1'), version: 1, aliases: [], created: true });
    expect(v1.createdAt).toEqual(expect.any(Number));
    expect(t.registerModel(model('h2'))).toMatchObject({ version: 2, created: true });
    expect(t.registerModel({ ...model('h1'), path: 'elsewhere' })).toMatchObject({ version: 1, created: false, path: 'runs/models/iris/h1' });
    expect(t.registerModel(model('h1', 'other'))).toMatchObject({ name: 'other', version: 1, created: true });
    expect(t.registerModel({ ...model('h5'), version: 5 })).toMatchObject({ version: 5, created: true });
    expect(() => t.registerModel({ ...model('h6'), version: 5 })).toThrow(ModelVersionTakenError);
    expect(t.nextModelVersion('iris')).toBe(6);
    expect(t.getModel('iris', 1)?.metrics).toEqual({ accuracy: 0.9, f1: 0.85 });
  });

  it('resolves versions, numeric strings, aliases and latest', () => {
    const t = tracker();
    t.registerModel(model('h1'));
    t.registerModel(model('h2'));
    t.setAlias('iris', 'production', 1);
    t.setAlias('iris', 'staging', 1);
    expect(t.getModel('iris')?.version).toBe(2);
    expect(t.getModel('iris', 'latest')?.version).toBe(2);
    expect(t.getModel('iris', 1)?.aliases).toEqual(['production', 'staging']);
    expect(t.getModel('iris', '2')?.version).toBe(2);
    expect(t.getModel('iris', 'production')?.version).toBe(1);
    expect(t.getModel('iris', 'canary')).toBeUndefined();
    expect(t.getModel('iris', 3)).toBeUndefined();
    expect(t.getModel('nope')).toBeUndefined();
    expect(() => t.setAlias('iris', 'production', 9)).toThrow(ModelVersionNotFoundError);
  });

  it('rolls an alias back through its distinct previous holders', () => {
    const t = tracker();
    for (const h of ['h1', 'h2', 'h3']) t.registerModel(model(h));
    expect(t.rollbackAlias('iris', 'production')).toBeUndefined();
    t.setAlias('iris', 'production', 1);
    expect(t.rollbackAlias('iris', 'production')).toBeUndefined();
    t.setAlias('iris', 'production', 2);
    t.setAlias('iris', 'production', 2);
    t.setAlias('iris', 'production', 3);
    expect(t.rollbackAlias('iris', 'production')).toBe(2);
    expect(t.getModel('iris', 'production')?.version).toBe(2);
    expect(t.rollbackAlias('iris', 'production')).toBe(1);
    expect(t.rollbackAlias('iris', 'production')).toBeUndefined();
    expect(t.getModel('iris', 'production')?.version).toBe(1);
    t.setAlias('iris', 'production', 3);
    expect(t.rollbackAlias('iris', 'production')).toBe(1);
  });

  it('lists models newest first with their aliases', () => {
    const t = tracker();
    t.registerModel(model('h1'));
    t.registerModel(model('h2'));
    t.registerModel(model('x1', 'other'));
    t.setAlias('iris', 'production', 1);
    t.setAlias('other', 'production', 1);
    t.setAlias('iris', 'canary', 2);
    t.setAlias('iris', 'a-first', 2);
    expect(t.listModels('iris').map((m) => [m.version, m.aliases])).toEqual([
      [2, ['a-first', 'canary']],
      [1, ['production']],
    ]);
    const all = t.listModels();
    expect(all).toHaveLength(3);
    expect(all.find((m) => m.name === 'other')?.aliases).toEqual(['production']);
    const created = all.map((m) => m.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(t.listModels('none')).toEqual([]);
  });
});

describe('concurrency', () => {
  it('lets two trackers on one file write interleaved and see each other', () => {
    const a = tracker();
    const b = tracker();
    for (let i = 0; i < 20; i++) {
      const [w, id] = i % 2 === 0 ? [a, `a-${i}`] : [b, `b-${i}`];
      w.createRun(run(id, { startedAt: i }));
      w.logMetrics([point(id, 'loss', 0, i), point(id, 'loss', 1, i / 2)]);
      (i % 2 === 0 ? b : a).recordStageRun(stage(id, 'train'));
    }
    a.registerModel({ name: 'm', runId: 'a-0', stage: 'deploy', artifactHash: 'x', path: 'p', metrics: {} });
    expect(b.registerModel({ name: 'm', runId: 'b-1', stage: 'deploy', artifactHash: 'y', path: 'p', metrics: {} }).version).toBe(2);
    expect(a.listRuns().map((r) => r.id)).toEqual(b.listRuns().map((r) => r.id));
    expect(b.listRuns()).toHaveLength(20);
    expect(a.getMetrics('b-19')).toHaveLength(2);
    expect(b.getStageRuns('b-19')).toHaveLength(1);
  });

  it('waits for another process holding the write lock instead of failing', async () => {
    const t = tracker();
    t.createRun(run('r'));
    const holder = await holdWriteLock(300);
    t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
    expect(holder.exitCode).toBe(0);
  });

  it('retries a busy write transaction with backoff when the busy timeout is spent', async () => {
    tracker().close();
    const t = track(new SqliteTracker(trackerPath(dir), { busyTimeoutMs: 0 }));
    t.createRun(run('r'));
    const holder = await holdWriteLock(100);
    t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(t.getMetrics('r')).toHaveLength(1);
    await exited(holder);
  });

  it('gives up with TrackerBusyError once the retries are spent', async () => {
    tracker().close();
    const t = track(new SqliteTracker(trackerPath(dir), { busyTimeoutMs: 0, busyRetries: 1 }));
    t.createRun(run('r'));
    const holder = await holdWriteLock();
    expect(() => t.logMetrics([point('r', 'loss', 0, 1)])).toThrow(TrackerBusyError);
    holder.stdin!.write('\n');
    await exited(holder);
    t.logMetrics([point('r', 'loss', 0, 1)]);
    expect(t.getMetrics('r')).toHaveLength(1);
  });
});
