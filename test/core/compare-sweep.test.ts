import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/app/compare/compare-runs.js';
import { AmbiguousSweepError, listSweeps, UnknownSweepError } from '../../src/app/compare/find-sweep.js';
import { renderSweep, sweepCsv, sweepHeadline } from '../../src/render/sweep.js';
import { selectRuns } from '../../src/app/compare/select-runs.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { UserError } from '../../src/errors.js';
import { seedRun } from './compare-fixtures.js';

let dir: string;
let tracker: Tracker;
const T0 = Date.UTC(2024, 4, 1, 12, 0);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-compare-sweep-'));
  tracker = await openTracker(dir);
});

afterEach(async () => {
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Point {
  id: string;
  lr: number;
  batch: number;
  accuracy?: number;
  logLoss?: number;
  failed?: boolean;
}

/** A sweep as `run --sweep params.lr=… --sweep train.batch_size=…` records it: params on the run, stage configs in key material. */
async function seedSweep(sweepId: string, points: Point[], opts: { start?: number; pipeline?: string } = {}): Promise<void> {
  for (const [i, p] of points.entries()) {
    const metrics: Record<string, number> = {};
    if (p.accuracy !== undefined) metrics['evaluate.accuracy'] = p.accuracy;
    if (p.logLoss !== undefined) metrics['evaluate.log_loss'] = p.logLoss;
    await seedRun(tracker, { id: p.id, pipeline: opts.pipeline ?? 'iris', startedAt: (opts.start ?? T0) + i * 1000, params: { lr: p.lr, epochs: 5 }, metrics, status: p.failed ? 'failed' : 'completed' });
    await tracker.updateRun(p.id, { sweepId });
    const config = { data: '${stages.prepare.outputs.dataset}', batch_size: p.batch, epochs: 5, optimizer: { name: 'adam', learning_rate: p.lr } };
    const material = { kind: 'train', version: 1, config, params: { lr: p.lr, epochs: 5 }, inputs: {}, upstream: {}, outputs: {} };
    await tracker.recordStageRun({ runId: p.id, stage: 'prepare', kind: 'preprocess', status: 'completed', keyMaterial: { kind: 'preprocess', version: 1, config: { input: 'data/iris.csv' }, params: {}, inputs: {}, upstream: {}, outputs: {} } });
    await tracker.recordStageRun({ runId: p.id, stage: 'train', kind: 'train', status: p.failed ? 'failed' : 'completed', keyMaterial: p.failed ? null : material });
  }
}

const GRID: Point[] = [
  { id: 'r-0000000000a1', lr: 0.1, batch: 32, accuracy: 0.9, logLoss: 0.4 },
  { id: 'r-0000000000a2', lr: 0.1, batch: 64, accuracy: 0.8, logLoss: 0.5 },
  { id: 'r-0000000000a3', lr: 0.01, batch: 32, accuracy: 0.9667, logLoss: 0.2 },
  { id: 'r-0000000000a4', lr: 0.01, batch: 64, failed: true },
];

describe('selecting a sweep', () => {
  beforeEach(async () => {
    await seedSweep('s-1111aaaa', GRID);
    await seedSweep('s-1111bbbb', [{ id: 'r-0000000000b1', lr: 1, batch: 8, accuracy: 0.5 }], { start: T0 + 60_000, pipeline: 'other' });
    await seedRun(tracker, { id: 'r-0000000000c1', startedAt: T0 + 120_000, metrics: { 'evaluate.accuracy': 0.1 } });
  });

  it('takes a sweep by id or unambiguous prefix, with or without s-, its runs oldest first', async () => {
    const ids = GRID.map((p) => p.id);
    expect(await selectRuns(tracker, { sweep: 's-1111aaaa' })).toEqual({ ids, baseline: ids[0], sweepId: 's-1111aaaa' });
    expect((await selectRuns(tracker, { sweep: '1111a' })).sweepId).toBe('s-1111aaaa');
    expect((await selectRuns(tracker, { sweep: 's-1111b' })).ids).toEqual(['r-0000000000b1']);
  });

  it('--last-sweep takes the newest sweep, of the given pipeline when one is named', async () => {
    expect((await selectRuns(tracker, { lastSweep: true })).sweepId).toBe('s-1111bbbb');
    expect((await selectRuns(tracker, { lastSweep: true, pipeline: 'iris' })).sweepId).toBe('s-1111aaaa');
    await expect(selectRuns(tracker, { lastSweep: true, pipeline: 'nope' })).rejects.toThrow('no sweeps of pipeline "nope" are recorded');
    expect((await listSweeps(tracker)).map((s) => [s.id, s.runs])).toEqual([
      ['s-1111bbbb', 1],
      ['s-1111aaaa', 4],
    ]);
  });

  it('lists the candidates of an unknown or ambiguous sweep (exit 2) and refuses mixed selections', async () => {
    const unknown = await selectRuns(tracker, { sweep: 's-9' }).catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(UnknownSweepError);
    expect((unknown as UnknownSweepError).exitCode).toBe(2);
    expect((unknown as Error).message).toBe('no sweep matches "s-9"; recent sweeps: s-1111bbbb (other, 1 run, 2024-05-01 12:01), s-1111aaaa (iris, 4 runs, 2024-05-01 12:00)');
    await expect(selectRuns(tracker, { sweep: 's-1111' })).rejects.toThrow(AmbiguousSweepError);
    await expect(selectRuns(tracker, { sweep: 's-1111' })).rejects.toThrow('"s-1111" matches 2 sweeps');
    await expect(selectRuns(tracker, { sweep: 's-1111aaaa', refs: ['r-0000000000c1'] })).rejects.toThrow(UserError);
    await expect(selectRuns(tracker, { sweep: 's-1111aaaa', lastSweep: true })).rejects.toThrow('give --sweep ID or --last-sweep, not both');
  });
});

describe('the sweep grid', () => {
  it('takes the first grid point as the baseline, not the point that started first; --baseline overrides it', async () => {
    // GRID's points started a1, a2, a3, a4; its first grid point (lr 0.01, batch 32) is a3.
    await seedSweep('s-1111aaaa', GRID);
    const result = await compareRuns(tracker, { sweep: 's-1111aaaa' });
    expect(result.baseline).toBe('r-0000000000a3');
    expect(result.runs.find((r) => r.isBaseline)?.id).toBe('r-0000000000a3');
    expect((await compareRuns(tracker, { sweep: 's-1111aaaa', baseline: 'r-0000000000a1' })).baseline).toBe('r-0000000000a1');
  });

  it('finds the swept params and stage keys, orders the points by them and marks the best', async () => {
    await seedSweep('s-2222aaaa', GRID);
    const { sweep } = await compareRuns(tracker, { sweep: 's-2222aaaa' });
    expect(sweep).toBeDefined();
    expect(sweep!.axes).toEqual([
      { name: 'params.lr', values: [0.01, 0.1] },
      { name: 'train.batch_size', values: [32, 64] },
    ]);
    expect(sweep!.objective).toEqual({ name: 'evaluate.accuracy', direction: 'higher' });
    expect(sweep!.columns).toEqual(['evaluate.accuracy', 'evaluate.log_loss']);
    expect(sweep!.points.map((p) => [p.run, p.settings, p.value, p.best, p.status])).toEqual([
      ['r-0000000000a3', { 'params.lr': 0.01, 'train.batch_size': 32 }, 0.9667, true, 'completed'],
      ['r-0000000000a4', { 'params.lr': 0.01 }, null, false, 'failed'],
      ['r-0000000000a1', { 'params.lr': 0.1, 'train.batch_size': 32 }, 0.9, false, 'completed'],
      ['r-0000000000a2', { 'params.lr': 0.1, 'train.batch_size': 64 }, 0.8, false, 'completed'],
    ]);
    expect(sweep!.best).toEqual(['r-0000000000a3']);
    expect(sweep!.failed).toBe(1);
  });

  it('ranks by --sort (lower is better for a loss) in best-first order, and by the first --metric', async () => {
    await seedSweep('s-2222aaaa', GRID);
    const sorted = (await compareRuns(tracker, { sweep: 's-2222aaaa', sort: 'log_loss' })).sweep!;
    expect(sorted.objective).toEqual({ name: 'evaluate.log_loss', direction: 'lower' });
    expect(sorted.points.map((p) => [p.run, p.value, p.best])).toEqual([
      ['r-0000000000a3', 0.2, true],
      ['r-0000000000a1', 0.4, false],
      ['r-0000000000a2', 0.5, false],
      ['r-0000000000a4', null, false],
    ]);
    const chosen = (await compareRuns(tracker, { sweep: 's-2222aaaa', metrics: ['log_loss'] })).sweep!;
    expect(chosen.columns).toEqual(['evaluate.log_loss']);
    expect(chosen.best).toEqual(['r-0000000000a3']);
  });

  it('marks no best when every point ties, and says so', async () => {
    await seedSweep('s-3333aaaa', [
      { id: 'r-0000000000d1', lr: 0.1, batch: 32, accuracy: 0.9 },
      { id: 'r-0000000000d2', lr: 0.2, batch: 32, accuracy: 0.9 },
    ]);
    const { sweep } = await compareRuns(tracker, { lastSweep: true });
    expect(sweep!.axes.map((a) => a.name)).toEqual(['params.lr']);
    expect(sweep!.best).toEqual([]);
    expect(sweepHeadline(sweep!)).toBe('sweep s-3333aaaa of iris: 2 points; every point has the same evaluate.accuracy (higher is better)');
  });

  it('renders the points, the two-axis matrix, markdown and csv', async () => {
    await seedSweep('s-2222aaaa', GRID);
    const result = await compareRuns(tracker, { sweep: 's-2222aaaa' });
    expect(renderSweep(result.sweep!, result, 'table')).toMatchInlineSnapshot(`
      "sweep s-2222aaaa of iris: 4 points, 1 failed; best by evaluate.accuracy (higher is better): r-0000000000a3 (params.lr=0.01, train.batch_size=32) = 0.9667 (no validation metric was logged: this ranks on test data; log val_* metrics in train to select on validation)

        params.lr  train.batch_size  run             status     evaluate.accuracy  evaluate.log_loss
        0.01       32                r-0000000000a3  completed  0.9667 ★           0.2
        0.01                         r-0000000000a4  failed
        0.1        32                r-0000000000a1  completed  0.9                0.4
        0.1        64                r-0000000000a2  completed  0.8                0.5

        evaluate.accuracy
        params.lr ↓ train.batch_size →  32        64
        0.01                            0.9667 ★
        0.1                             0.9       0.8
      ★ best evaluate.accuracy
      "
    `);
    const md = renderSweep(result.sweep!, result, 'markdown');
    expect(md).toContain('#### mlpipe sweep s-2222aaaa of iris: 4 points, 1 failed;');
    expect(md).toContain('| 0.01 | 32 | r-0000000000a3 | completed | **0.9667 ★** | 0.2 |');
    expect(md).toContain('| params.lr ↓ train.batch_size → | 32 | 64 |');
    expect(sweepCsv(result.sweep!, result).split('\n').slice(0, 3)).toEqual([
      'run,status,best,params.lr,train.batch_size,evaluate.accuracy,evaluate.log_loss',
      'r-0000000000a3,completed,true,0.01,32,0.9667,0.2',
      'r-0000000000a4,failed,false,0.01,,,',
    ]);
  });

  it('checks --fail-if against the first point of the sweep and lists the failures in markdown', async () => {
    await seedSweep('s-4444aaaa', GRID.slice(0, 3));
    const result = await compareRuns(tracker, { sweep: 's-4444', failIf: ['accuracy < baseline - 0.05'] });
    expect(result.conditions[0].holds).toBe(true);
    const md = renderSweep(result.sweep!, result, 'markdown', { conditions: result.conditions });
    expect(md).toContain('- ❌ `--fail-if accuracy < baseline - 0.05` holds');
    expect(md).toContain('> fail-if accuracy < baseline - 0.05 holds for r-0000000000a2: accuracy = 0.8, baseline.accuracy = 0.9');
  });
});

describe('the best point is selected on validation data (issue 13 item 8)', () => {
  it('ranks by the train stage\'s val_* metric by default and shows the test metric separately', async () => {
    const points = [
      { id: 'r-0000000000d1', lr: 0.1, val: 0.95, test: 0.8 },
      { id: 'r-0000000000d2', lr: 0.01, val: 0.9, test: 0.97 },
    ];
    for (const [i, p] of points.entries()) {
      await seedRun(tracker, { id: p.id, startedAt: T0 + i * 1000, params: { lr: p.lr }, metrics: { 'train.val_accuracy': p.val, 'train.val_loss': 1 - p.val, 'evaluate.accuracy': p.test } });
      await tracker.updateRun(p.id, { sweepId: 's-3333aaaa' });
    }
    const sweep = (await compareRuns(tracker, { sweep: 's-3333aaaa' })).sweep!;
    expect(sweep.objective).toEqual({ name: 'train.val_accuracy', direction: 'higher' });
    expect(sweep.selectedOn).toBe('validation');
    expect(sweep.best).toEqual(['r-0000000000d1']);
    expect(sweep.columns).toEqual(['train.val_accuracy', 'evaluate.accuracy']);
    expect(sweepHeadline(sweep)).toBe('sweep s-3333aaaa of iris: 2 points; best by train.val_accuracy (higher is better, validation data): r-0000000000 (params.lr=0.1) = 0.95; its evaluate.accuracy (test) = 0.8'.replace('r-0000000000 ', `${sweep.points.find((p) => p.best)!.shortId} `));
    const chosen = (await compareRuns(tracker, { sweep: 's-3333aaaa', sort: 'evaluate.accuracy' })).sweep!;
    expect([chosen.selectedOn, chosen.best]).toEqual(['chosen', ['r-0000000000d2']]);
  });

  it('without a validation metric it ranks on the test metric and says so', async () => {
    await seedSweep('s-4444aaaa', GRID);
    const sweep = (await compareRuns(tracker, { sweep: 's-4444aaaa' })).sweep!;
    expect(sweep.selectedOn).toBe('test');
    expect(sweepHeadline(sweep)).toMatch(/\(no validation metric was logged: this ranks on test data; log val_\* metrics in train to select on validation\)$/);
  });
});

describe('a sweep of an ASHA search (runs tagged pruned=EPOCH)', () => {
  /** Three trials (lr 0.1, 0.01, 0.001) with these accuracies; the last was pruned at `epoch`. */
  async function seedSearch(sweepId: string, prefix: string, accuracies: number[], epoch: number): Promise<void> {
    await seedSweep(sweepId, accuracies.map((accuracy, i) => ({ id: `r-0000000000${prefix}${i + 1}`, lr: [0.1, 0.01, 0.001][i]!, batch: 32, accuracy })));
    await tracker.setRunTags(`r-0000000000${prefix}3`, { pruned: String(epoch) });
  }

  it('shows the pruned trials with their epoch, and ranks only the trials that were not pruned', async () => {
    // the pruned trial has the highest accuracy (measured early, on fewer epochs): it is shown, never the best
    await seedSearch('s-3333aaaa', 'd', [0.9, 0.95, 0.99], 3);
    const result = await compareRuns(tracker, { sweep: 's-3333aaaa' });
    const sweep = result.sweep;
    expect(sweep!.points.map((p) => [p.run, p.pruned, p.best])).toEqual([
      ['r-0000000000d3', 3, false],
      ['r-0000000000d2', null, true],
      ['r-0000000000d1', null, false],
    ]);
    expect(sweepHeadline(sweep!)).toMatch(/^sweep s-3333aaaa of iris: 3 points, 1 pruned; best by evaluate\.accuracy \(higher is better\): r-0000000000d2 \(params\.lr=0\.01\) = 0\.95 /);
    const lines = renderSweep(sweep!, result, 'table').split('\n');
    expect(lines.find((l) => l.includes('0.001'))).toMatch(/0\.001\s+r-0000000000d3\s+pruned @ epoch 3\s+0\.99\s*$/);
    expect(lines.find((l) => l.includes('0.01 '))).toMatch(/completed\s+0\.95 ★/);
  });

  it('a tie among the unpruned trials is a tie, not "every point has the same"', async () => {
    await seedSearch('s-3333bbbb', 'e', [1, 1, 0.6], 1);
    const { sweep } = await compareRuns(tracker, { sweep: 's-3333bbbb' });
    expect(sweep!.best.sort()).toEqual(['r-0000000000e1', 'r-0000000000e2']);
  });
});
