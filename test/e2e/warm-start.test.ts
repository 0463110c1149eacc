import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { irisRegistry, type IrisRegistry } from './iris-models.js';

let reg: IrisRegistry;
const cli = (...args: string[]) => runCli(args, { cwd: reg.dir, env: reg.env });
const json = (...args: string[]) => runJson(args, { cwd: reg.dir, env: reg.env });

/** pipelines/iris as another pipeline whose train stage starts from `initFrom` (and freezes `freeze`), with `hidden` units. */
async function warmSpec(file: string, initFrom: string, opts: { hidden?: number; freeze?: string } = {}): Promise<string> {
  const spec = (await readFile(join(reg.dir, 'iris', 'pipeline.yaml'), 'utf8'))
    .replace('name: iris\n', 'name: iris-warm\n')
    .replace('hidden_units: [16]', `hidden_units: [${opts.hidden ?? 16}]`)
    .replace('      seed: 42\n  evaluate:', `      seed: 42\n      init_from: ${initFrom}\n${opts.freeze ? `      freeze: ${opts.freeze}\n` : ''}  evaluate:`);
  await writeFile(join(reg.dir, 'iris', file), spec);
  return `iris/${file}`;
}

/** The bytes of each float32 weight of a saved model, by name (weights.bin is laid out in manifest order). */
async function weightsByName(dir: string): Promise<Map<string, Buffer>> {
  const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).weightsManifest[0];
  const bin = await readFile(join(dir, manifest.paths[0]));
  const out = new Map<string, Buffer>();
  let offset = 0;
  for (const w of manifest.weights) {
    const bytes = w.shape.reduce((n: number, d: number) => n * d, 1) * 4;
    out.set(w.name, bin.subarray(offset, offset + bytes));
    offset += bytes;
  }
  return out;
}

const trainOf = (summary: any) => summary.stages.find((s: any) => s.name === 'train');
const modelDir = (summary: any) => summary.artifacts.find((a: any) => a.stage === 'train' && a.name === 'model').path;

beforeAll(async () => {
  reg = await irisRegistry();
  const promoted = await cli('models', 'promote', 'iris@1', '--alias', 'production');
  if (promoted.code !== 0) throw new Error(promoted.stderr);
});
afterAll(() => reg?.cleanup());

describe('train.init_from (warm start) on the iris example', () => {
  it('starts from iris@production: a much lower first-epoch loss than a cold start, the frozen layer unchanged, where it started recorded', async () => {
    const cold = await json('run', 'iris/pipeline.yaml', '--stage', 'train', '--set', 'params.epochs=1');
    expect(cold.code).toBe(0);
    const spec = await warmSpec('warm.yaml', 'iris@production', { freeze: '[dense_1]' });
    const warm = await json('run', spec, '--stage', 'train', '--set', 'params.epochs=1');
    expect(warm.code, warm.stderr).toBe(0);
    const coldLoss = trainOf(cold.json).metrics.loss;
    const warmLoss = trainOf(warm.json).metrics.loss;
    // Measured on cpu: cold 0.85 (three classes: ln 3 ≈ 1.1 at random), warm 0.053.
    expect(coldLoss).toBeGreaterThan(0.5);
    expect(warmLoss).toBeLessThan(coldLoss / 4);
    expect(trainOf(warm.json).metrics.init_from_version).toBe(1);

    const meta = JSON.parse(await readFile(join(modelDir(warm.json), 'mlpipe.json'), 'utf8'));
    const v1 = (await json('models', 'show', 'iris@1')).json;
    expect(meta.initFrom).toEqual({ ref: 'iris@production', registered: { name: 'iris', version: 1 }, producedBy: { run: reg.runIds[0], stage: 'deploy' }, digest: v1.artifactHash, frozen: ['dense_1'] });

    // Frozen, dense_1 keeps v1's weights bit for bit; dense_2 trained on.
    const v1Weights = await weightsByName(join(reg.runsDir, 'models', 'iris', '1'));
    const trained = await weightsByName(modelDir(warm.json));
    expect([...trained.keys()].sort()).toEqual(['dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel']);
    for (const name of ['dense_1/kernel', 'dense_1/bias']) expect(trained.get(name)!.equals(v1Weights.get(name)!), name).toBe(true);
    for (const name of ['dense_2/kernel', 'dense_2/bias']) expect(trained.get(name)!.equals(v1Weights.get(name)!), name).toBe(false);
  });

  it('keys the stage on the model: cached while the alias stays, re-run once it moves to another version', async () => {
    const spec = await warmSpec('keyed.yaml', 'iris@production');
    const first = await json('run', spec, '--stage', 'train', '--set', 'params.epochs=2');
    expect(first.code, first.stderr).toBe(0);
    const again = await json('run', spec, '--stage', 'train', '--set', 'params.epochs=2');
    expect(trainOf(again.json).cached).toBe(true);

    expect((await cli('models', 'promote', 'iris@2', '--alias', 'production')).code).toBe(0);
    const status = await json('status', spec, '--stage', 'train', '--set', 'params.epochs=2');
    const planned = status.json.stages.find((s: any) => s.name === 'train');
    expect(planned.action).toBe('run');
    expect(planned.reason).toMatch(/^input model:iris@production changed \(\w{4}… → \w{4}…\)/);
    const rerun = await json('run', spec, '--stage', 'train', '--set', 'params.epochs=2');
    expect(trainOf(rerun.json).cached).toBe(false);
    expect(trainOf(rerun.json).metrics.init_from_version).toBe(2);
    expect((await cli('models', 'promote', 'iris@1', '--alias', 'production')).code).toBe(0);
  });

  it('a run id works as well as a registry reference', async () => {
    const spec = await warmSpec('from-run.yaml', `${reg.runIds[1]}/train`);
    const r = await json('run', spec, '--stage', 'train', '--set', 'params.epochs=1');
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(await readFile(join(modelDir(r.json), 'mlpipe.json'), 'utf8'));
    expect(meta.initFrom).toMatchObject({ ref: `${reg.runIds[1]}/train`, producedBy: { run: reg.runIds[1], stage: 'train' }, frozen: [] });
    expect(meta.initFrom.registered).toBeUndefined();
  });

  it('another architecture fails the stage naming the first mismatching layer; an unknown alias exits 2 before anything runs', async () => {
    const wide = await warmSpec('wide.yaml', 'iris@production', { hidden: 32 });
    const r = await cli('run', wide, '--stage', 'train', '--set', 'params.epochs=1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('init_from iris@production: layer 0 dense_1: kernel expected [4, 16] (the shape in iris@production), got [4, 32]');

    const missing = await warmSpec('missing.yaml', 'iris@staging');
    const s = await cli('status', missing);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('iris/missing.yaml:25:18 stage train init_from: model iris@staging: no registered version matches iris@staging; iris has v2, v1 (production)');
    const bad = await warmSpec('bad.yaml', 'iris@');
    const v = await cli('validate', bad);
    expect(v.code).toBe(2);
    expect(v.stderr + v.stdout).toContain('stages.train.with.init_from: invalid model reference "iris@": nothing follows "@"');
  });
});
