import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelInput, type ModelSource } from '../../src/core/models/model-input.js';
import { planRun, type PlanDeps } from '../../src/core/run/plan-run.js';
import type { ArtifactRecord, ModelVersion } from '../../src/core/tracker/types.js';
import { QueueDispatcher } from '../../src/core/queue/queue-dispatcher.js';
import { runStage, type StageRunContext } from '../../src/core/run/run-stage.js';
import { localExecutor } from '../../src/core/run/executor.js';
import type { StageKind } from '../../src/core/stage-kind.js';
import { reasonText } from '../../src/render/reasons.js';
import { train } from '../../src/stages/train.js';
import { pipelineOf, stage } from './plan-fixtures.js';

let runsDir: string;
const version = (v: number, aliases: string[]): ModelVersion => ({ name: 'iris', version: v, runId: `r-00000${v}`, stage: 'deploy', artifactHash: `hash-v${v}`, path: `models/iris/${v}`, metrics: {}, aliases, createdAt: v });
const versions = [version(2, []), version(1, ['production'])];
const artifacts: ArtifactRecord[] = [
  { runId: 'r-abc123', stage: 'train', name: 'model', path: '/gone', hash: 'hash-run', size: 1 },
  { runId: 'r-abc123', stage: 'train_big', name: 'model', path: '/gone', hash: 'hash-big', size: 1 },
];
const source: ModelSource = {
  getModel: async (name, ref) => versions.find((m) => m.name === name && (ref === undefined ? m === versions[0] : typeof ref === 'number' ? m.version === ref : m.aliases.includes(ref))),
  listModels: async (name) => versions.filter((m) => name === undefined || m.name === name),
  findRunIds: async (prefix) => ['r-abc123', 'r-abd999'].filter((id) => id.startsWith(prefix)),
  getArtifacts: async (run) => artifacts.filter((a) => a.runId === run),
};

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'mlpipe-model-input-'));
  for (const v of [1, 2]) await mkdir(join(runsDir, 'models', 'iris', String(v)), { recursive: true });
  for (const s of ['train', 'train_big']) await mkdir(join(runsDir, 'r-abc123', s, 'model'), { recursive: true });
});
afterAll(() => rm(runsDir, { recursive: true, force: true }));

describe('resolveModelInput', () => {
  it('resolves an alias, a version and a bare name in the registry', async () => {
    expect(await resolveModelInput(source, runsDir, 'iris@production')).toEqual({ ref: 'iris@production', name: 'iris', version: 1, runId: 'r-000001', stage: 'deploy', digest: 'hash-v1', dir: join(runsDir, 'models', 'iris', '1') });
    expect((await resolveModelInput(source, runsDir, 'iris@v2')).digest).toBe('hash-v2');
    expect((await resolveModelInput(source, runsDir, 'iris')).version).toBe(2);
  });

  it('resolves a run id prefix with its stage; says what is ambiguous or missing', async () => {
    expect(await resolveModelInput(source, runsDir, 'r-abc/train_big')).toMatchObject({ runId: 'r-abc123', stage: 'train_big', digest: 'hash-big', dir: join(runsDir, 'r-abc123', 'train_big', 'model') });
    await expect(resolveModelInput(source, runsDir, 'r-abc')).rejects.toThrow('model r-abc: run r-abc123 has models from the stages train, train_big');
    await expect(resolveModelInput(source, runsDir, 'r-ab/train')).rejects.toThrow('model r-ab/train: r-ab is the start of 2 run ids (r-abc123, r-abd999)');
    await expect(resolveModelInput(source, runsDir, 'iris@staging')).rejects.toThrow('model iris@staging: no registered version matches iris@staging; iris has v2, v1 (production)');
  });
});

describe('planning a stage that reads a model', () => {
  const warm = stage('train', [], { kind: 'train', impl: train, config: { init_from: 'iris@production' } });
  const spec = pipelineOf(warm);
  const deps = (digest: string): PlanDeps => ({ inputDigest: async () => 'x', modelDigest: async () => digest, cache: { entry: async () => undefined, lastExecution: async () => undefined } });

  it('keys it on the model digest (as the input model:REF): another version, another key and the reason says so', async () => {
    const a = (await planRun(spec, deps('hash-v1'))).stages[0]!;
    const b = (await planRun(spec, deps('hash-v2'))).stages[0]!;
    expect(a.inputs).toEqual({ 'model:iris@production': 'hash-v1' });
    expect(a.key).not.toBe(b.key);
    const history = { entry: async () => undefined, lastExecution: async () => ({ key: a.key!, material: a.material! }) };
    const again = (await planRun(spec, { ...deps('hash-v2'), cache: history })).stages[0]!;
    expect(again.reasons.map((r) => reasonText(r as never))).toEqual(['input model:iris@production changed (hash… → hash…)']);
    await expect(planRun(spec, { ...deps('x'), modelDigest: undefined })).rejects.toThrow('stage train reads the model iris@production, and no model registry is at hand to resolve it');
  });

  it('keeps it off queue workers, which have no registry', () => {
    expect(QueueDispatcher.prototype.runsLocally.call(undefined, warm)).toBe('stage train runs on the coordinator: it starts from the model iris@production, which the registry here resolves');
  });
});

describe('running a stage that reads a model', () => {
  it('refuses a model that moved to another digest since the stage was keyed, and hands over the one it was keyed on', async () => {
    const seen: string[] = [];
    const reader: StageKind = { ...train, run: async (ctx) => {
      seen.push((await ctx.resolveModelInput!('iris@production')).digest);
      throw new Error('stop here');
    } };
    const s = stage('train', [], { kind: 'train', impl: reader, config: { init_from: 'iris@production' } });
    const ctx0 = { spec: pipelineOf(s), runId: 'r-1', runsDir, runDir: join(runsDir, 'r-1'), models: source, backend: 'cpu', signal: new AbortController().signal, emit: () => {}, executor: localExecutor } as unknown as StageRunContext;
    await expect(runStage(ctx0, s, {}, 'k', {}, { 'model:iris@production': 'hash-v0' })).rejects.toThrow(
      'model iris@production changed while this run was under way (planned with hash-v0…, now hash-v1…): the stage is not run on other weights than its cache key says',
    );
    await expect(runStage(ctx0, s, {}, 'k', {}, { 'model:iris@production': 'hash-v1' })).rejects.toThrow('stop here');
    expect(seen).toEqual(['hash-v1']);
  });
});
