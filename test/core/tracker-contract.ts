import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ModelVersionNotFoundError, ModelVersionTakenError, RunNotFoundError } from '../../src/core/tracker/errors.js';
import type { MetricPoint, RunRecord, StageRunRecord, Tracker } from '../../src/core/tracker/types.js';
import { runSearchContract } from './run-search-contract.js';

/**
 * The behaviour every Tracker implementation must have (STYLE.md item 16): the same tests run
 * against SQLite (tracker.test.ts) and PostgreSQL (tracker-postgres.test.ts). `open` gives a fresh,
 * empty tracker for each test and may be called again within a test for a second connection to
 * the same one; whoever calls `open` closes nothing: the caller's afterEach does.
 */
export interface ContractTarget {
  open(): Promise<Tracker>;
}

export const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
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
  name: null,
  note: null,
  tags: {},
  heartbeatAt: 1000,
  deletedAt: null,
  ...over,
});

export const stage = (runId: string, name: string, over: Partial<StageRunRecord> = {}): StageRunRecord => ({
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

export const point = (runId: string, key: string, step: number | null, value: number): MetricPoint => ({ runId, stage: 'train', key, step, value, time: 5 });

const model = (hash: string, name = 'iris') => ({
  name,
  runId: 'r',
  stage: 'deploy',
  artifactHash: hash,
  path: `runs/models/${name}/${hash}`,
  metrics: { accuracy: 0.9, f1: 0.85 },
});

const exited = (pid: number | undefined, child: ReturnType<typeof spawn>): Promise<number> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(pid!) : child.once('exit', () => resolve(pid!))));

export function trackerContract(target: ContractTarget): void {
  const tracker = () => target.open();
  runSearchContract(target);

  describe('integrity', () => {
    it('finds nothing wrong with a sound database', async () => {
      const t = await tracker();
      await t.createRun(run('r-sound'));
      expect(await t.checkIntegrity()).toEqual([]);
    });
  });

  describe('runs', () => {
    it('round-trips a run with JSON params, name, note and tags, and patches it', async () => {
      const t = await tracker();
      const params = { lr: 0.001, layers: [16, 32], opt: { name: 'adam', beta: [0.9, 0.999] }, note: 'ünïcödé 中文', flag: true, none: null };
      const full = run('r-1', { status: 'running', params, gitCommit: 'abc123', backend: 'wasm', sweepId: 's-1', name: 'baseline', note: 'first try', tags: { owner: 'ana', data: 'v2' } });
      await t.createRun(full);
      expect(await t.getRun('r-1')).toEqual({ ...full, tags: { data: 'v2', owner: 'ana' } });
      await t.updateRun('r-1', { status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 }, note: 'diverged' });
      expect(await t.getRun('r-1')).toMatchObject({ status: 'failed', endedAt: 2000, error: 'boom', params: { lr: 1 }, backend: 'wasm', note: 'diverged' });
      await t.updateRun('r-1', { error: null, backend: undefined });
      expect(await t.getRun('r-1')).toMatchObject({ error: null, backend: 'wasm' });
      await t.setRunTags('r-1', { owner: 'bo', data: null, stage: 'prod' });
      expect((await t.getRun('r-1'))?.tags).toEqual({ owner: 'bo', stage: 'prod' });
      expect(await t.getRun('nope')).toBeUndefined();
      await expect(t.updateRun('nope', { status: 'completed' })).rejects.toThrow(RunNotFoundError);
      await expect(t.updateRun('nope', {})).rejects.toThrow(RunNotFoundError);
      await expect(t.setRunTags('nope', { a: 'b' })).rejects.toThrow(RunNotFoundError);
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

    it('lists runs newest first (ties: the later insert first) with filters, a limit and deleted runs left out', async () => {
      const t = await tracker();
      await t.createRun(run('a', { startedAt: 1 }));
      await t.createRun(run('b', { startedAt: 3, pipeline: 'other' }));
      await t.createRun(run('c', { startedAt: 2, status: 'failed', sweepId: 's' }));
      await t.createRun(run('d', { startedAt: 2, sweepId: 's' }));
      await t.createRun(run('e', { startedAt: 4, deletedAt: 9 }));
      const ids = async (f?: Parameters<Tracker['listRuns']>[0]) => (await t.listRuns(f)).map((r) => r.id);
      expect(await ids()).toEqual(['b', 'd', 'c', 'a']);
      expect(await ids({ pipeline: 'iris' })).toEqual(['d', 'c', 'a']);
      expect(await ids({ status: 'failed' })).toEqual(['c']);
      expect(await ids({ sweepId: 's' })).toEqual(['d', 'c']);
      expect(await ids({ pipeline: 'iris', limit: 2 })).toEqual(['d', 'c']);
      expect(await ids({ pipeline: 'none' })).toEqual([]);
      expect(await ids({ deleted: 'include' })).toEqual(['e', 'b', 'd', 'c', 'a']);
      expect(await ids({ deleted: 'only' })).toEqual(['e']);
      await t.updateRun('e', { deletedAt: null });
      expect(await ids({ limit: 1 })).toEqual(['e']);
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

    it('keeps what a re-run under the same key produced differently (nondeterminism)', async () => {
      const t = await tracker();
      await t.createRun(run('r'));
      const nondeterministic = { previousRunId: 'r-old', files: ['model', 'out/a.txt'] };
      await t.recordStageRun(stage('r', 'train', { nondeterministic }));
      await t.recordStageRun(stage('r', 'prepare', { nondeterministic: null }));
      const byStage = Object.fromEntries((await t.getStageRuns('r')).map((s) => [s.stage, s]));
      expect(byStage.train?.nondeterministic).toEqual(nondeterministic);
      expect(byStage.prepare).not.toHaveProperty('nondeterministic');
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

    it('logs metric points in one transaction and reads them back exactly, in order', async () => {
      const t = await tracker();
      await t.createRun(run('r'));
      const points = [
        point('r', 'loss', 0, 0.9),
        point('r', 'loss', 1, 0.5),
        point('r', 'accuracy', null, 0.93),
        point('r', 'diverged', 2, Number.NaN),
        point('r', 'big', 3, Number.POSITIVE_INFINITY),
        point('r', 'small', 4, Number.NEGATIVE_INFINITY),
        point('r', 'tiny', 5, 5e-324),
      ];
      await t.logMetrics(points);
      await t.logMetrics([]);
      expect(await t.getMetrics('r')).toEqual(points);
      await expect(t.logMetrics([point('r', 'x', 0, 1), point('missing-run', 'x', 0, 1)])).rejects.toThrow(/foreign key/i);
      expect(await t.getMetrics('r')).toHaveLength(points.length);
    });

    it('writes 30,000 points of one call, in order', async () => {
      const t = await tracker();
      await t.createRun(run('r'));
      const many = Array.from({ length: 30_000 }, (_, i) => point('r', i % 2 ? 'loss' : 'val_loss', i >> 1, i / 7));
      await t.logMetrics(many);
      const back = await t.getMetrics('r');
      expect(back).toHaveLength(many.length);
      expect(back[29_999]).toEqual(many[29_999]);
      expect(back.map((p) => p.value)).toEqual(many.map((p) => p.value));
    });

    it('records artifacts, replacing by (run, stage, name)', async () => {
      const t = await tracker();
      await t.createRun(run('r'));
      await t.recordArtifacts([
        { runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h1', size: 10 },
        { runId: 'r', stage: 'prepare', name: 'dataset', path: 'runs/r/prepare/dataset', hash: 'h2', size: 5_000_000_000 },
      ]);
      await t.recordArtifacts([{ runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h3', size: 11 }]);
      await t.recordArtifacts([]);
      expect(await t.getArtifacts('r')).toEqual([
        { runId: 'r', stage: 'train', name: 'model', path: 'runs/r/train/model', hash: 'h3', size: 11 },
        { runId: 'r', stage: 'prepare', name: 'dataset', path: 'runs/r/prepare/dataset', hash: 'h2', size: 5_000_000_000 },
      ]);
    });
  });

  describe('dead runs', () => {
    it('marks running runs of this host whose process is gone, and only those', async () => {
      const gone = spawn(process.execPath, ['-e', '0']);
      const deadPid = await exited(gone.pid, gone);
      const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
      try {
        const t = await tracker();
        const now = Date.now();
        await t.createRun(run('dead', { status: 'running', pid: deadPid, heartbeatAt: now }));
        await t.createRun(run('live', { status: 'running', pid: live.pid!, heartbeatAt: now }));
        await t.createRun(run('mine', { status: 'running', pid: process.pid, heartbeatAt: now }));
        await t.createRun(run('elsewhere', { status: 'running', pid: deadPid, host: `${hostname()}-other`, heartbeatAt: now }));
        await t.createRun(run('finished', { status: 'completed', pid: deadPid }));
        await t.recordStageRun(stage('dead', 'prepare', { status: 'completed', endedAt: 7 }));
        await t.recordStageRun(stage('dead', 'train', { status: 'running', endedAt: null }));
        await t.recordStageRun(stage('dead', 'evaluate', { status: 'pending', endedAt: null }));
        await t.recordStageRun(stage('live', 'train', { status: 'running' }));

        expect(await t.markDeadRunsInterrupted()).toEqual(['dead']);
        expect(await t.markDeadRunsInterrupted()).toEqual([]);

        const status = async (id: string) => (await t.getRun(id))?.status;
        expect(await status('dead')).toBe('interrupted');
        expect((await t.getRun('dead'))?.endedAt).toEqual(expect.any(Number));
        expect((await t.getRun('dead'))?.error).toContain(String(deadPid));
        expect(await Promise.all([status('live'), status('mine'), status('elsewhere'), status('finished')])).toEqual(['running', 'running', 'running', 'completed']);
        expect((await t.getStageRuns('dead')).map((s) => [s.stage, s.status, s.endedAt === null])).toEqual([
          ['prepare', 'completed', false],
          ['train', 'interrupted', false],
          ['evaluate', 'interrupted', false],
        ]);
        expect((await t.getStageRuns('dead'))[0]?.endedAt).toBe(7);
        expect((await t.getStageRuns('live'))[0]?.status).toBe('running');
      } finally {
        live.kill();
      }
    });

    it('marks a run of another host dead once its heartbeat is older than the lease, and a heartbeat keeps it alive', async () => {
      const t = await tracker();
      const other = `${hostname()}-elsewhere`;
      await t.createRun(run('quiet', { status: 'running', host: other, heartbeatAt: 10_000 }));
      await t.createRun(run('beating', { status: 'running', host: other, heartbeatAt: 10_000 }));
      await t.recordStageRun(stage('quiet', 'train', { status: 'running', endedAt: null }));
      expect(await t.markDeadRunsInterrupted({ now: 60_000, leaseMs: 60_000 })).toEqual([]);
      await t.heartbeat('beating', 65_000);
      expect((await t.getRun('beating'))?.heartbeatAt).toBe(65_000);
      expect(await t.markDeadRunsInterrupted({ now: 70_001, leaseMs: 60_000 })).toEqual(['quiet']);
      const quiet = await t.getRun('quiet');
      expect(quiet).toMatchObject({ status: 'interrupted', endedAt: 70_001 });
      expect(quiet?.error).toMatch(/^no heartbeat from process \d+ on .*-elsewhere since 1970-01-01T00:00:10\.000Z; taken for dead after 60 s$/);
      expect((await t.getStageRuns('quiet'))[0]?.status).toBe('interrupted');
      expect((await t.getRun('beating'))?.status).toBe('running');
    });
  });

  describe('model registry', () => {
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
      expect(await t.registerModel(model('h6'))).toMatchObject({ version: 6 });
      expect((await t.getModel('iris', 1))?.metrics).toEqual({ accuracy: 0.9, f1: 0.85 });
    });

    it('registers and moves an alias in one step, and lets a claim skip numbers taken on disk', async () => {
      const t = await tracker();
      const asked: number[] = [];
      const v = await t.registerModel(model('h1'), { alias: 'production', claim: async (n) => (asked.push(n), n < 3 ? undefined : `/models/iris/${n}`) });
      expect(asked).toEqual([1, 2, 3]);
      expect(v).toMatchObject({ version: 3, path: '/models/iris/3', aliases: ['production'], created: true });
      expect(await t.registerModel(model('h1'), { alias: 'staging' })).toMatchObject({ version: 3, created: false, aliases: ['production', 'staging'] });
      await expect(t.registerModel(model('h2'), { alias: 'canary', claim: async () => { throw new Error('disk full'); } })).rejects.toThrow('disk full');
      expect(await t.listModels('iris')).toHaveLength(1);
      expect(await t.getModel('iris', 'canary')).toBeUndefined();
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

    it('removes an alias: it resolves no more, its history no longer counts for a rollback, and it can be set afresh', async () => {
      const t = await tracker();
      for (const h of ['h1', 'h2', 'h3']) await t.registerModel(model(h));
      await t.setAlias('iris', 'staging', 1);
      await t.setAlias('iris', 'staging', 2);
      await t.setAlias('iris', 'production', 2);
      expect(await t.removeAlias('iris', 'staging')).toBe(2);
      expect(await t.getModel('iris', 'staging')).toBeUndefined();
      expect((await t.getModel('iris', 2))?.aliases).toEqual(['production']);
      expect(await t.removeAlias('iris', 'staging')).toBeUndefined();
      expect(await t.removeAlias('nope', 'staging')).toBeUndefined();
      expect(await t.rollbackAlias('iris', 'staging')).toBeUndefined();
      await t.setAlias('iris', 'staging', 3);
      expect(await t.rollbackAlias('iris', 'staging')).toBeUndefined();
      expect((await t.getModel('iris', 'staging'))?.version).toBe(3);
      expect((await t.getModel('iris', 'production'))?.version).toBe(2);
    });

    it('keeps a description per version: given at registration, replaced by a re-registration that gives one, set and cleared', async () => {
      const t = await tracker();
      expect(await t.registerModel(model('h1'))).toMatchObject({ version: 1, description: null });
      expect(await t.registerModel({ ...model('h2'), description: 'ünïcode \'quoted\' text' })).toMatchObject({ version: 2, description: 'ünïcode \'quoted\' text' });
      expect(await t.registerModel(model('h2'))).toMatchObject({ version: 2, created: false, description: 'ünïcode \'quoted\' text' });
      expect(await t.registerModel({ ...model('h2'), description: 'second try' })).toMatchObject({ version: 2, created: false, description: 'second try' });
      expect((await t.getModel('iris', 2))?.description).toBe('second try');
      await t.describeModel('iris', 1, 'baseline');
      expect((await t.listModels('iris')).map((m) => [m.version, m.description])).toEqual([
        [2, 'second try'],
        [1, 'baseline'],
      ]);
      await t.describeModel('iris', 1, null);
      expect((await t.getModel('iris', 1))?.description).toBeNull();
      await expect(t.describeModel('iris', 9, 'x')).rejects.toThrow(ModelVersionNotFoundError);
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

  describe('two connections', () => {
    it('write interleaved and see each other', async () => {
      const a = await tracker();
      const b = await target.open();
      for (let i = 0; i < 20; i++) {
        const [w, id] = i % 2 === 0 ? [a, `a-${i}`] : [b, `b-${i}`];
        await w.createRun(run(id, { startedAt: i }));
        await w.logMetrics([point(id, 'loss', 0, i), point(id, 'loss', 1, i / 2)]);
        await (i % 2 === 0 ? b : a).recordStageRun(stage(id, 'train'));
      }
      await a.registerModel({ name: 'm', runId: 'a-0', stage: 'deploy', artifactHash: 'x', path: 'p', metrics: {} });
      expect((await b.registerModel({ name: 'm', runId: 'b-1', stage: 'deploy', artifactHash: 'y', path: 'p', metrics: {} })).version).toBe(2);
      expect((await a.listRuns()).map((r) => r.id)).toEqual((await b.listRuns()).map((r) => r.id));
      expect(await b.listRuns()).toHaveLength(20);
      expect(await a.getMetrics('b-19')).toHaveLength(2);
      expect(await b.getStageRuns('b-19')).toHaveLength(1);
    });

    it('number 12 registrations at once from two connections 1..12, each once, aliases moved atomically', async () => {
      const a = await tracker();
      const b = await target.open();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).registerModel({ name: 'race', runId: `r-${i}`, stage: 'deploy', artifactHash: `h${i}`, path: 'p', metrics: {} }, { alias: 'production' })),
      );
      expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      // Numbers are taken in commit order (one registration of a name at a time), so the last holds the alias.
      expect((await a.listModels('race')).filter((m) => m.aliases.includes('production')).map((m) => m.version)).toEqual([12]);
    });
  });
}
