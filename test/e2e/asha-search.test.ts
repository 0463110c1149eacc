import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// pipelines/iris (prepare → train → evaluate → deploy) with 27 epochs and a larger validation split:
// nine learning rates drawn, rungs at epochs 1, 3 and 9, about one in three trials kept at each.
const EPOCHS = 27;
const search = [
  'run', 'pipeline.yaml',
  '--sweep', 'params.lr=loguniform(1e-4,1e-1)', '--trials', '9', '--seed', '1',
  '--search', 'asha', '--objective', 'val_accuracy', '--min-epochs', '1', '--reduction', '3',
  '--set', `params.epochs=${EPOCHS}`, '--set', 'train.early_stopping.patience=100', '--set', 'prepare.split.validation=0.3',
  '--jobs', '2',
];

let ws: Workspace;
let first: { code: number | null; json: any; stderr: string };
beforeAll(async () => {
  ws = await makeWorkspace();
  await cp(join(repoRoot, 'pipelines', 'iris'), ws.dir, { recursive: true });
  first = await runJson(search, { cwd: ws.dir });
}, 240_000);
afterAll(async () => ws.cleanup());

const pruned = (json: any) => json.points.map((p: any) => p.pruned ?? null);

describe('mlpipe run --sweep … --search asha (successive halving on iris)', () => {
  it('stops poor trials at a rung, before the last epoch, and skips the stages below them', () => {
    expect(first.code, first.stderr).toBe(0);
    const { points } = first.json;
    expect(first.json.search).toMatchObject({ method: 'asha', objective: 'train.val_accuracy', direction: 'max', minEpochs: 1, reduction: 3 });
    const stopped = points.filter((p: any) => p.pruned !== undefined);
    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.length).toBeLessThan(points.length);
    expect(first.json.search.pruned).toBe(stopped.length);
    for (const p of stopped) {
      expect([1, 3, 9]).toContain(p.pruned);
      expect(p.metrics['train.epochs']).toBe(p.pruned);
      expect(p.metrics['train.epochs']).toBeLessThan(EPOCHS);
      expect(p.metrics['train.pruned_epoch']).toBe(p.pruned);
      expect(p.status).toBe('completed');
      expect(p.metrics['evaluate.accuracy']).toBeUndefined();
    }
    for (const p of points.filter((q: any) => q.pruned === undefined)) {
      expect(p.metrics['train.epochs']).toBe(EPOCHS);
      expect(p.metrics['evaluate.accuracy']).toBeGreaterThan(0);
    }
  });

  it('picks the best trial by the validation metric among the trials that were not pruned', () => {
    const { points, search: s } = first.json;
    expect(s.best).not.toBeNull();
    const best = points[s.best];
    expect(best.pruned).toBeUndefined();
    const kept = points.filter((p: any) => p.pruned === undefined).map((p: any) => p.metrics['train.val_accuracy']);
    expect(best.metrics['train.val_accuracy']).toBe(Math.max(...kept));
    expect(points.findIndex((p: any) => p.pruned === undefined && p.metrics['train.val_accuracy'] === Math.max(...kept))).toBe(s.best);
  });

  it('compare shows the pruned trials and ranks only the others; the runs are tagged pruned=EPOCH', async () => {
    const text = await runCli(['compare', 'runs', '--sweep', first.json.sweepId], { cwd: ws.dir });
    expect(text.code, text.stderr).toBe(0);
    const stopped = first.json.points.filter((p: any) => p.pruned !== undefined);
    expect(text.stdout.split('\n')[0]).toContain(`9 points, ${stopped.length} pruned; best by train.val_accuracy`);
    for (const p of stopped) expect(text.stdout).toMatch(new RegExp(`${p.runId.slice(0, 8)}\\s+pruned @ epoch ${p.pruned}\\s`));
    const json = await runJson(['compare', 'runs', '--sweep', first.json.sweepId], { cwd: ws.dir });
    for (const point of json.json.sweep.points) {
      const p = first.json.points.find((q: any) => q.runId === point.run);
      expect(point.pruned).toBe(p.pruned ?? null);
      if (point.best) expect(point.pruned).toBeNull();
    }
    const runs = await runJson(['runs', 'list', '--json'], { cwd: ws.dir });
    for (const p of stopped) expect(runs.json.runs.find((r: any) => r.id === p.runId).tags).toEqual({ pruned: String(p.pruned) });
  });

  it('the same command again restores every trial from the cache and takes the same decisions', async () => {
    const again = await runJson(search, { cwd: ws.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.points.map((p: any) => p.set)).toEqual(first.json.points.map((p: any) => p.set));
    expect(pruned(again.json)).toEqual(pruned(first.json));
    expect(again.json.search.best).toBe(first.json.search.best);
    for (const [i, p] of again.json.points.entries()) {
      const shown = await runJson(['runs', 'show', p.runId, '--json'], { cwd: ws.dir });
      const train = shown.json.stages.find((s: any) => s.stage === 'train');
      expect(train.cachedFrom).toBe(first.json.points[i].runId);
      // deploy is never cached: it runs again for the trials that were not pruned, and is skipped below a pruned one
      const ran = shown.json.stages.filter((s: any) => s.cachedFrom === null && s.status === 'completed').map((s: any) => s.stage);
      expect(ran).toEqual(p.pruned === undefined ? ['deploy'] : []);
    }
  });

  it('--dry plans each trial with its search identity: every trained stage shows as restorable, nothing runs', async () => {
    const before = await runJson(['runs', 'list', '--json'], { cwd: ws.dir });
    const dry = await runJson([...search, '--dry'], { cwd: ws.dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.points.map((p: any) => p.set)).toEqual(first.json.points.map((p: any) => p.set));
    for (const p of dry.json.points) expect(p.stages.find((s: any) => s.name === 'train').action).toBe('restore');
    const after = await runJson(['runs', 'list', '--json'], { cwd: ws.dir });
    expect(after.json.runs.length).toBe(before.json.runs.length);
  });

  it('takes the same decisions with one trial at a time, in a fresh runs folder (nothing restored)', async () => {
    const alone = await runJson([...search.filter((a) => a !== '--jobs' && a !== '2'), '--jobs', '1', '--runs-dir', join(ws.dir, 'runs-alone')], { cwd: ws.dir });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.json.points.map((p: any) => p.set)).toEqual(first.json.points.map((p: any) => p.set));
    expect(pruned(alone.json)).toEqual(pruned(first.json));
    expect(alone.json.points.map((p: any) => p.metrics['train.val_accuracy'])).toEqual(first.json.points.map((p: any) => p.metrics['train.val_accuracy']));
  });

  it('refuses a test metric as the objective, and the queue executor, with a hint', async () => {
    const test = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.lr=0.1,0.01', '--search', 'asha', '--objective', 'accuracy'], { cwd: ws.dir });
    expect(test.code).toBe(2);
    expect(test.stderr).toContain('--objective accuracy: the search ranks trials on validation data, so the objective is a val_* metric');
    expect(test.stderr).toContain('Hint: e.g. --objective val_accuracy');
    const queue = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.lr=0.1,0.01', '--search', 'asha', '--executor', 'queue'], { cwd: ws.dir });
    expect(queue.code).toBe(2);
    expect(queue.stderr).toContain('--search asha needs the local executor');
    expect(queue.stderr).not.toContain('    at ');
  });
});
