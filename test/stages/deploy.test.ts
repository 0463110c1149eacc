import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { GateFailedError } from '../../src/errors.js';
import { deploy, resolveUpstreamMetrics, type DeployConfig } from '../../src/stages/deploy.js';
import { registerModelVersion, withRegistration } from '../../src/core/run/model-registration.js';
import { stageKinds } from '../../src/stages/index.js';
import type { StageContext } from '../../src/core/stage-kind.js';

let dir: string;
let tracker: Tracker;
let logs: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-deploy-'));
  tracker = await openTracker(join(dir, 'runs'));
  logs = [];
  writeModel('v1');
});

afterEach(async () => {
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeModel(weights: string): void {
  mkdirSync(join(dir, 'model', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'model', 'model.json'), '{"format":"layers-model"}');
  writeFileSync(join(dir, 'model', 'sub', 'weights.bin'), weights);
}

let runCounter = 0;
async function runDeploy(config: Omit<DeployConfig, 'model' | 'name'> & { name?: string }, upstream: Record<string, Record<string, number>>) {
  const runId = `r-${++runCounter}`;
  const outDir = join(dir, 'out', runId);
  mkdirSync(outDir, { recursive: true });
  const ctx: StageContext<DeployConfig> = {
    stage: 'deploy',
    config: { model: join(dir, 'model'), name: 'iris', ...config },
    workspace: dir,
    outDir,
    outputs: { registration: join(outDir, 'registration.json') },
    runId,
    runsDir: join(dir, 'runs'),
    signal: new AbortController().signal,
    log: (line) => logs.push(line),
    progress: () => {},
    logMetric: () => {},
    upstreamMetrics: upstream,
    models: tracker,
    backend: 'cpu',
  };
  const asked = await deploy.run(ctx);
  // What the runner does with the stage's result (execute-plan.ts, through the run recorder).
  const result = await withRegistration(asked, 'deploy', (request, stage) => registerModelVersion(tracker, ctx.runsDir, { runId, stage }, request), ctx.log);
  return { result, registration: JSON.parse(readFileSync(ctx.outputs.registration, 'utf8')), text: readFileSync(ctx.outputs.registration, 'utf8') };
}

const upstream = (accuracy: number) => ({ preprocess: { rows: 150 }, train: { accuracy: 0.99, loss: 0.1 }, evaluate: { accuracy, f1: accuracy - 0.01 } });

describe('deploy stage', () => {
  it('is registered, never cached, and declares registration.json', async () => {
    expect(stageKinds.get('deploy')).toBe(deploy);
    expect(deploy.cache).toBe(false);
    expect(deploy.outputs({ model: 'm', name: 'n' })).toEqual({ registration: { path: 'registration.json', location: 'stage' } });
  });

  it('registers and exports the model when the gate passes', async () => {
    const { result, registration, text } = await runDeploy({ gate: 'accuracy >= 0.9', alias: 'production' }, upstream(0.9333));
    expect(result?.metrics).toEqual({ version: 1 });
    const path = join(dir, 'runs', 'models', 'iris', '1');
    expect(readFileSync(join(path, 'sub', 'weights.bin'), 'utf8')).toBe('v1');
    expect(registration).toMatchObject({
      schemaVersion: 1,
      name: 'iris',
      version: 1,
      path: 'models/iris/1',
      alias: 'production',
      gate: { expression: 'accuracy >= 0.9', passed: true, values: { accuracy: 0.9333 }, assumed: [] },
    });
    expect(Object.keys(registration)).toEqual([...Object.keys(registration)].sort());
    expect(text.endsWith('\n')).toBe(true);
    const model = (await tracker.getModel('iris', 'production'))!;
    expect(model).toMatchObject({ version: 1, runId: 'r-1', stage: 'deploy', path: 'models/iris/1', artifactHash: registration.artifactHash });
    expect(model.metrics).toMatchObject({ accuracy: 0.9333, 'evaluate.accuracy': 0.9333, 'train.accuracy': 0.99, loss: 0.1, rows: 150 });
    expect(logs).toContain('registered iris v1 (alias production)');
    expect(readdirNoTmp()).toEqual(['1']);
  });

  it('fails the gate with every value used and registers nothing', async () => {
    const err = await runDeploy({ gate: 'accuracy >= 0.95 and f1 > 0.5' }, upstream(0.933333)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateFailedError);
    expect((err as GateFailedError).message).toMatchInlineSnapshot(`"gate failed: accuracy >= 0.95 and f1 > 0.5 (accuracy = 0.9333)"`);
    expect((err as GateFailedError).values).toEqual({ accuracy: 0.933333 });
    expect(await tracker.listModels('iris')).toEqual([]);
    expect(existsSync(join(dir, 'runs', 'models', 'iris', '1'))).toBe(false);
  });

  it('reuses the version when the same artifact is registered again', async () => {
    await runDeploy({}, upstream(0.9));
    const again = await runDeploy({}, upstream(0.9));
    expect(again.result?.metrics).toEqual({ version: 1 });
    expect(again.registration).toMatchObject({ version: 1, gate: null });
    expect(again.registration).not.toHaveProperty('created');
    expect(await tracker.listModels('iris')).toHaveLength(1);
    expect(logs).toContain('already registered iris v1');
    writeModel('v2');
    expect((await runDeploy({}, upstream(0.9))).result?.metrics).toEqual({ version: 2 });
    expect(readdirNoTmp()).toEqual(['1', '2']);
  });

  it('moves the alias to the new version', async () => {
    await runDeploy({ alias: 'production' }, upstream(0.9));
    writeModel('v2');
    await runDeploy({ alias: 'production' }, upstream(0.91));
    expect((await tracker.getModel('iris', 'production'))?.version).toBe(2);
    expect((await tracker.getModel('iris', 1))?.aliases).toEqual([]);
  });

  it('compares against the production version, and passes when there is none yet', async () => {
    const gate = 'accuracy >= production - 0.005';
    const first = await runDeploy({ gate, alias: 'production' }, upstream(0.9));
    expect(first.registration.gate).toEqual({ expression: gate, passed: true, values: {}, assumed: ['accuracy >= production.accuracy - 0.005'] });
    expect(logs).toContain('gate: accuracy >= production.accuracy - 0.005 passes: no version of iris holds the production alias yet');

    writeModel('v2');
    const second = await runDeploy({ gate, alias: 'production' }, upstream(0.896));
    expect(second.registration.gate.values).toEqual({ accuracy: 0.896, 'production.accuracy': 0.9 });
    expect((await tracker.getModel('iris', 'production'))?.version).toBe(2);

    writeModel('v3');
    const err = await runDeploy({ gate: 'evaluate.accuracy >= production.accuracy - 0.005', alias: 'production' }, upstream(0.8)).catch((e: unknown) => e);
    expect((err as Error).message).toMatchInlineSnapshot(`"gate failed: evaluate.accuracy >= production.accuracy - 0.005 (evaluate.accuracy = 0.8, production.accuracy = 0.896)"`);
    expect((await tracker.getModel('iris', 'production'))?.version).toBe(2);
    expect(await tracker.listModels('iris')).toHaveLength(2);
  });

  it('names the known metrics when the gate reads an unknown one', async () => {
    await expect(runDeploy({ gate: 'acuracy > 0.5' }, upstream(0.9))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ExprNameError: unknown metric "acuracy"; did you mean "accuracy"? (known: accuracy, f1, loss, rows, evaluate.accuracy, evaluate.f1, preprocess.rows, train.accuracy, train.loss)]`,
    );
  });
});

describe('resolveUpstreamMetrics', () => {
  it('prefers evaluation stages, then the nearest stage', async () => {
    const resolved = resolveUpstreamMetrics({ a: { x: 1, y: 1 }, b: { x: 2 }, evaluate: { y: 3 }, c: { y: 4, z: 5 } });
    expect(Object.keys(resolved)).toEqual(['x', 'y', 'z', 'a.x', 'a.y', 'b.x', 'c.y', 'c.z', 'evaluate.y']);
    expect(resolved).toEqual({
      'a.x': 1,
      'a.y': 1,
      'b.x': 2,
      'evaluate.y': 3,
      'c.y': 4,
      'c.z': 5,
      x: 2,
      y: 3,
      z: 5,
    });
  });
});

function readdirNoTmp(): string[] {
  return readdirSorted(join(dir, 'runs', 'models', 'iris'));
}

function readdirSorted(p: string): string[] {
  return readdirSync(p).sort();
}
