import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildComparison, flattenParams, loadRuns } from '../../src/app/compare/build-comparison.js';
import { compareRuns } from '../../src/app/compare/compare-runs.js';
import { checkConditions, describeFailures } from '../../src/app/compare/fail-if.js';
import { directionOf, resolveMetricName, specDirections } from '../../src/app/compare/metric-names.js';
import { AmbiguousRunError, resolveRunRef, shortIds, UnknownRunError } from '../../src/app/compare/resolve-run.js';
import { listRunSummaries, runDetails } from '../../src/app/compare/run-summaries.js';
import { selectRuns } from '../../src/app/compare/select-runs.js';
import { sparkline } from '../../src/render/sparkline.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { UserError } from '../../src/errors.js';
import { seedRun } from './compare-fixtures.js';

let dir: string;
let tracker: Tracker;
const T0 = Date.UTC(2024, 4, 1, 12, 0);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-compare-'));
  tracker = await openTracker(dir);
});

afterEach(async () => {
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

async function seedThree(): Promise<void> {
  await seedRun(tracker, {
    id: 'r-aaa111000001',
    startedAt: T0,
    params: { lr: 0.01, epochs: 10, model: { units: 8 } },
    metrics: { 'evaluate.accuracy': 0.9, 'evaluate.log_loss': 0.3, 'train.loss': 0.2 },
    curves: { 'train.loss': [1, 0.5, 0.2] },
  });
  await seedRun(tracker, {
    id: 'r-aaa222000002',
    startedAt: T0 + 60_000,
    params: { lr: 0.1, epochs: 10, model: { units: 8 } },
    metrics: { 'evaluate.accuracy': 0.95, 'evaluate.log_loss': 0.25, 'train.loss': 0.15 },
    curves: { 'train.loss': [0.9, 0.4, 0.3, 0.15] },
  });
  await seedRun(tracker, {
    id: 'r-bbb333000003',
    startedAt: T0 + 120_000,
    params: { lr: 0.5, epochs: 10, model: { units: 16 } },
    metrics: { 'evaluate.accuracy': 0.8, 'train.loss': 0.6 },
    status: 'failed',
  });
}

describe('buildComparison', () => {
  it('computes deltas against the baseline, knows lower-is-better metrics, and marks the best', async () => {
    await seedThree();
    const c = buildComparison(await loadRuns(tracker, ['r-aaa111000001', 'r-aaa222000002', 'r-bbb333000003']));
    expect(c.baseline).toBe('r-aaa111000001');
    expect(c.runs.map((r) => [r.shortId, r.isBaseline, r.status, r.durationMs])).toEqual([
      ['r-aaa111', true, 'completed', 1500],
      ['r-aaa222', false, 'completed', 1500],
      ['r-bbb333', false, 'failed', 1500],
    ]);
    const acc = c.metrics.find((m) => m.name === 'evaluate.accuracy')!;
    expect(acc.direction).toBe('higher');
    expect(acc.values).toEqual([0.9, 0.95, 0.8]);
    expect(acc.deltas.map((d) => d && Number(d.toFixed(4)))).toEqual([null, 0.05, -0.1]);
    expect(acc.best).toEqual([1]);
    const logLoss = c.metrics.find((m) => m.name === 'evaluate.log_loss')!;
    expect(logLoss).toMatchObject({ direction: 'lower', values: [0.3, 0.25, null], best: [1] });
    expect(logLoss.deltas[2]).toBeNull();
    expect(c.metrics.find((m) => m.name === 'train.loss')!.best).toEqual([1]);
    expect(c.curves).toEqual([
      {
        name: 'train.loss',
        direction: 'lower',
        points: [
          [0, 1, 2].map((step) => ({ step, value: [1, 0.5, 0.2][step] })),
          [0, 1, 2, 3].map((step) => ({ step, value: [0.9, 0.4, 0.3, 0.15][step] })),
          [],
        ],
      },
    ]);
  });

  it('orders curve points by step, keeping the last value of a step logged twice', async () => {
    await seedRun(tracker, { id: 'r-steps', startedAt: T0 });
    const at = (step: number, value: number) => ({ runId: 'r-steps', stage: 'train', key: 'loss', step, value, time: T0 });
    await tracker.logMetrics([at(1, 0.5), at(0, 1), at(1, 0.4), at(2, 0.3)]);
    expect(buildComparison(await loadRuns(tracker, ['r-steps'])).curves[0].points[0]).toEqual([
      { step: 0, value: 1 },
      { step: 1, value: 0.4 },
      { step: 2, value: 0.3 },
    ]);
  });

  it('lists params flattened, flags the changed ones, and keeps only those with onlyChanged', async () => {
    await seedThree();
    const ids = ['r-aaa111000001', 'r-aaa222000002', 'r-bbb333000003'];
    const all = buildComparison(await loadRuns(tracker, ids));
    expect(all.params).toEqual([
      { name: 'epochs', values: [10, 10, 10], changed: false },
      { name: 'lr', values: [0.01, 0.1, 0.5], changed: true },
      { name: 'model.units', values: [8, 8, 16], changed: true },
    ]);
    expect(buildComparison(await loadRuns(tracker, ids), { onlyChanged: true }).params.map((p) => p.name)).toEqual(['lr', 'model.units']);
    expect(flattenParams({ a: { b: { c: 1 } }, list: [1, 2], empty: {} })).toEqual({ 'a.b.c': 1, list: [1, 2], empty: {} });
  });

  it('compares runs of different pipelines and metrics with blank cells', async () => {
    await seedRun(tracker, { id: 'r-x1', startedAt: T0, pipeline: 'iris', params: { lr: 1 }, metrics: { 'evaluate.accuracy': 0.9 } });
    await seedRun(tracker, { id: 'r-x2', startedAt: T0 + 1, pipeline: 'weather', params: { depth: 3 }, metrics: { 'evaluate.rmse': 2.5 } });
    const c = buildComparison(await loadRuns(tracker, ['r-x1', 'r-x2']));
    expect(c.params).toEqual([
      { name: 'depth', values: [null, 3], changed: true },
      { name: 'lr', values: [1, null], changed: true },
    ]);
    expect(c.metrics).toEqual([
      { name: 'evaluate.accuracy', direction: 'higher', ranked: true, values: [0.9, null], deltas: [null, null], best: [] },
      { name: 'evaluate.rmse', direction: 'lower', ranked: true, values: [null, 2.5], deltas: [null, null], best: [] },
    ]);
  });

  it('sorts runs best-first by a metric, missing last, and filters metrics by bare or full name', async () => {
    await seedThree();
    const ids = ['r-aaa111000001', 'r-aaa222000002', 'r-bbb333000003'];
    expect(buildComparison(await loadRuns(tracker, ids), { sort: 'log_loss' }).runs.map((r) => r.id)).toEqual(['r-aaa222000002', 'r-aaa111000001', 'r-bbb333000003']);
    const sorted = buildComparison(await loadRuns(tracker, ids), { sort: 'accuracy', baseline: 'r-aaa111000001' });
    expect(sorted.runs.map((r) => r.id)).toEqual(['r-aaa222000002', 'r-aaa111000001', 'r-bbb333000003']);
    expect(sorted.metrics[0].deltas.map((d) => d && Number(d.toFixed(2)))).toEqual([0.05, null, -0.1]);
    const filtered = buildComparison(await loadRuns(tracker, ids), { metrics: ['accuracy', 'train.loss'] });
    expect(filtered.metrics.map((m) => m.name)).toEqual(['evaluate.accuracy', 'train.loss']);
    expect(filtered.curves.map((m) => m.name)).toEqual(['train.loss']);
    expect(buildComparison(await loadRuns(tracker, ids), { metrics: ['loss'] }).metrics.map((m) => m.name)).toEqual(['train.loss']);
    const loaded = await loadRuns(tracker, ids);
    expect(() => buildComparison(loaded, { metrics: ['f1'] })).toThrowErrorMatchingInlineSnapshot(
      `[UserError: unknown metric "f1"; known: evaluate.accuracy, evaluate.log_loss, train.loss]`,
    );
  });
});

describe('metric names', () => {
  it('knows which metrics are better lower, with overrides', async () => {
    const names = ['evaluate.accuracy', 'train.val_loss', 'evaluate.mean_squared_error', 'evaluate.rmse', 'evaluate.log_loss', 'evaluate.r2', 'x.mae', 'x.error_rate', 'x.f1'];
    expect(names.map((n) => directionOf(n))).toEqual(['higher', 'lower', 'lower', 'lower', 'lower', 'higher', 'lower', 'lower', 'higher']);
    expect(directionOf('evaluate.perplexity', { perplexity: 'lower' })).toBe('lower');
    expect(directionOf('train.val_loss', { 'train.val_loss': 'higher' })).toBe('higher');
  });

  it('reads overrides from a spec metrics block', async () => {
    const spec = join(dir, 'pipeline.yaml');
    writeFileSync(spec, 'name: x\nmetrics:\n  perplexity: lower\n  evaluate.kl: { better: lower }\n  bogus: sideways\nstages: {}\n');
    expect(specDirections(spec)).toEqual({ perplexity: 'lower', 'evaluate.kl': 'lower' });
    expect(specDirections(join(dir, 'missing.yaml'))).toEqual({});
  });

  it('resolves a bare key, preferring the evaluation stage', async () => {
    expect(resolveMetricName('accuracy', ['train.accuracy', 'evaluate.accuracy'])).toBe('evaluate.accuracy');
    expect(resolveMetricName('f1', ['evaluate.f1'])).toBe('evaluate.f1');
    expect(() => resolveMetricName('accuracy', ['train.accuracy', 'other.accuracy'])).toThrowError(UserError);
  });
});

describe('run references', () => {
  it('resolves full ids, prefixes with or without r-, and MODEL@ALIAS', async () => {
    await seedThree();
    expect(await resolveRunRef(tracker, 'r-aaa111000001')).toBe('r-aaa111000001');
    expect(await resolveRunRef(tracker, 'r-bbb')).toBe('r-bbb333000003');
    expect(await resolveRunRef(tracker, 'aaa2')).toBe('r-aaa222000002');
    await tracker.registerModel({ name: 'iris', runId: 'r-aaa222000002', stage: 'deploy', artifactHash: 'h1', path: '/m/1', metrics: {} });
    await tracker.setAlias('iris', 'production', 1);
    expect(await resolveRunRef(tracker, 'iris@production')).toBe('r-aaa222000002');
    expect(await resolveRunRef(tracker, 'iris@1')).toBe('r-aaa222000002');
    expect(await resolveRunRef(tracker, 'iris@v1')).toBe('r-aaa222000002');
    await expect(resolveRunRef(tracker, 'iris@staging')).rejects.toThrowErrorMatchingInlineSnapshot(`[ModelNotFoundError: no registered model matches "iris@staging": iris has v1 (production)]`);
  });

  it('lists the candidates of an ambiguous prefix and recent runs for an unknown one (exit 2)', async () => {
    await seedThree();
    const ambiguous = (await resolveRunRef(tracker, 'r-aaa').catch((e: unknown) => e)) as AmbiguousRunError;
    expect(ambiguous).toBeInstanceOf(AmbiguousRunError);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.message).toMatchInlineSnapshot(`"\"r-aaa\" matches 2 runs: r-aaa222000002 (iris, 2024-05-01 12:01), r-aaa111000001 (iris, 2024-05-01 12:00)"`);
    expect(ambiguous.hint).toBe('give more characters of the run id');
    await expect(resolveRunRef(tracker, 'r-zzz')).rejects.toThrowError(UnknownRunError);
    await expect(resolveRunRef(tracker, 'r-zzz')).rejects.toThrowErrorMatchingInlineSnapshot(
      `[UnknownRunError: no run matches "r-zzz"; recent runs: r-bbb333000003 (iris, 2024-05-01 12:02), r-aaa222000002 (iris, 2024-05-01 12:01), r-aaa111000001 (iris, 2024-05-01 12:00)]`,
    );
  });

  it('shortens ids to unambiguous prefixes of at least 8 characters', async () => {
    const ids = ['r-abcdef123456', 'r-abcdef923456', 'r-123456789abc'];
    expect([...shortIds(ids)]).toEqual([
      ['r-abcdef123456', 'r-abcdef1'],
      ['r-abcdef923456', 'r-abcdef9'],
      ['r-123456789abc', 'r-123456'],
    ]);
  });
});

describe('selectRuns', () => {
  it('defaults to the last 5 runs of the newest pipeline, oldest first, baseline the oldest', async () => {
    for (let i = 0; i < 7; i++) await seedRun(tracker, { id: `r-iris0000000${i}`, startedAt: T0 + i });
    await seedRun(tracker, { id: 'r-other0000000', pipeline: 'other', startedAt: T0 - 1 });
    expect(await selectRuns(tracker, {})).toEqual({ ids: ['r-iris00000002', 'r-iris00000003', 'r-iris00000004', 'r-iris00000005', 'r-iris00000006'], baseline: 'r-iris00000002' });
    expect(await selectRuns(tracker, { last: 2, pipeline: 'other' })).toEqual({ ids: ['r-other0000000'], baseline: 'r-other0000000' });
    expect(await selectRuns(tracker, { last: 1, baseline: 'r-iris00000000' })).toEqual({ ids: ['r-iris00000000', 'r-iris00000006'], baseline: 'r-iris00000000' });
    expect((await selectRuns(tracker, { refs: ['r-iris00000005', 'r-iris00000001'] })).baseline).toBe('r-iris00000005');
    await expect(selectRuns(tracker, { refs: ['r-iris00000005'], last: 2 })).rejects.toThrowError('name runs or give --last, not both');
    await expect(selectRuns(tracker, { pipeline: 'nope' })).rejects.toThrowError('no runs of pipeline "nope"; pipelines with runs: iris, other');
  });

  it('says how to start when the tracker is empty', async () => {
    await expect(selectRuns(tracker, {})).rejects.toThrowError(expect.objectContaining({ message: 'the tracker has no runs yet', exitCode: 2 }));
  });
});

describe('--fail-if', () => {
  it('holds when a compared run is worse than the baseline, with the values used', async () => {
    await seedThree();
    const result = await compareRuns(tracker, { refs: ['r-aaa111', 'r-aaa222', 'r-bbb'], failIf: ['accuracy < baseline - 0.01', 'train.loss > 0.7'] });
    expect(result.conditions).toEqual([
      {
        expression: 'accuracy < baseline - 0.01',
        holds: true,
        checks: [
          { run: 'r-aaa222000002', holds: false, values: { accuracy: 0.95, 'baseline.accuracy': 0.9 } },
          { run: 'r-bbb333000003', holds: true, values: { accuracy: 0.8, 'baseline.accuracy': 0.9 } },
        ],
      },
      {
        expression: 'train.loss > 0.7',
        holds: false,
        checks: [
          { run: 'r-aaa222000002', holds: false, values: { 'train.loss': 0.15 } },
          { run: 'r-bbb333000003', holds: false, values: { 'train.loss': 0.6 } },
        ],
      },
    ]);
    expect(describeFailures(result.conditions, result)).toEqual([
      'fail-if accuracy < baseline - 0.01 holds for r-bbb333: accuracy = 0.8, baseline.accuracy = 0.9',
    ]);
  });

  it('checks the only run against itself, and reports bad conditions as usage errors', async () => {
    await seedThree();
    const one = await compareRuns(tracker, { refs: ['r-bbb'], failIf: ['accuracy < 0.85'] });
    expect(one.conditions[0]).toMatchObject({ holds: true, checks: [{ run: 'r-bbb333000003', holds: true }] });
    const c = buildComparison(await loadRuns(tracker, ['r-aaa111000001', 'r-bbb333000003']));
    expect(() => checkConditions(c, ['accuracy <'])).toThrowError(expect.objectContaining({ exitCode: 2, message: expect.stringContaining('--fail-if: invalid expression') }));
    expect(() => checkConditions(c, ['acuracy < 1'])).toThrowErrorMatchingInlineSnapshot(
      `[UserError: --fail-if "acuracy < 1": unknown metric "acuracy"; did you mean "accuracy"? (known: accuracy, log_loss, loss, evaluate.accuracy, evaluate.log_loss, train.loss)]`,
    );
    expect(() => checkConditions(c, ['log_loss > 1'])).toThrowErrorMatchingInlineSnapshot(`[UserError: --fail-if "log_loss > 1": run r-bbb333 has no value for evaluate.log_loss]`);
  });

  it('does not check a condition that mentions baseline against the baseline itself: a warning instead of a pass', async () => {
    await seedThree();
    const one = await compareRuns(tracker, { refs: ['r-bbb'], failIf: ['accuracy < baseline - 0.01', 'accuracy < 0.85'] });
    expect(one.conditions[0]).toEqual({
      expression: 'accuracy < baseline - 0.01',
      holds: false,
      checks: [],
      warning: expect.stringContaining('--fail-if "accuracy < baseline - 0.01" was not checked for r-bbb333: it mentions baseline, and with no --baseline the baseline is that run itself'),
    });
    expect(one.conditions[1]).toMatchObject({ holds: true, checks: [{ run: 'r-bbb333000003' }] });
    expect(one.conditions[1]).not.toHaveProperty('warning');
    const given = await compareRuns(tracker, { last: 1, baseline: 'r-aaa111', failIf: ['accuracy < baseline.accuracy'] });
    expect(given.conditions[0]).not.toHaveProperty('warning');
    expect(given.conditions[0].checks.map((c) => c.run)).toEqual(['r-bbb333000003']);
  });
});

describe('run summaries', () => {
  it('lists runs newest first with stage counts and headline metrics', async () => {
    await seedThree();
    await tracker.recordStageRun({ runId: 'r-aaa111000001', stage: 'train', kind: 'train', status: 'completed', cachedFrom: 'r-old' });
    await tracker.recordStageRun({ runId: 'r-aaa111000001', stage: 'evaluate', kind: 'evaluate', status: 'completed' });
    const list = await listRunSummaries(tracker, { limit: 2, pipeline: 'iris' });
    expect(list.map((r) => r.id)).toEqual(['r-bbb333000003', 'r-aaa222000002']);
    const first = (await listRunSummaries(tracker, {})).find((r) => r.id === 'r-aaa111000001')!;
    expect(first).toMatchObject({ shortId: 'r-aaa111', ran: 1, cached: 1, failed: 0, durationMs: 1500, headline: { accuracy: 0.9, log_loss: 0.3 } });
    expect((await listRunSummaries(tracker, { status: 'failed' })).map((r) => r.id)).toEqual(['r-bbb333000003']);
  });

  it('shows one run with stages, final metrics, curves and artifacts', async () => {
    await seedThree();
    await tracker.recordStageRun({ runId: 'r-aaa111000001', stage: 'train', kind: 'train', status: 'failed', error: 'boom', keyMaterial: { a: 1 } });
    await tracker.recordArtifacts([{ runId: 'r-aaa111000001', stage: 'train', name: 'model', path: '/runs/r/train/model', hash: 'abc', size: 10 }]);
    const d = await runDetails(tracker, 'aaa1');
    expect(d.run).toMatchObject({ id: 'r-aaa111000001', shortId: 'r-aaa111', durationMs: 1500 });
    expect(d.stages).toEqual([expect.objectContaining({ stage: 'train', status: 'failed', error: 'boom' })]);
    expect(d.stages[0]).not.toHaveProperty('keyMaterial');
    expect(d.metrics).toEqual({ 'train.loss': 0.2, 'evaluate.accuracy': 0.9, 'evaluate.log_loss': 0.3 });
    expect(d.curves).toEqual({ 'train.loss': { points: 3, last: 0.2 } });
    expect(d.artifacts).toEqual([{ stage: 'train', name: 'model', path: '/runs/r/train/model', hash: 'abc', size: 10 }]);
  });
});

describe('sparkline', () => {
  it('scales to the given range and resamples long series', async () => {
    expect(sparkline([0, 0.5, 1])).toBe('▁▅█');
    expect(sparkline([0.5], { min: 0, max: 1 })).toBe('▅');
    expect(sparkline([2, 2])).toBe('▄▄');
    expect(sparkline(Array.from({ length: 100 }, (_, i) => i), { width: 8 })).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([])).toBe('');
  });
});

describe('ranked metrics', () => {
  it('never ranks counts such as epochs run or a registered version, unless the spec names a direction', async () => {
    const { isRanked } = await import('../../src/app/compare/metric-names.js');
    expect(isRanked('train.epochs')).toBe(false);
    expect(isRanked('deploy.version')).toBe(false);
    expect(isRanked('prepare.train_rows')).toBe(false);
    expect(isRanked('evaluate.accuracy')).toBe(true);
    expect(isRanked('train.epochs', { 'train.epochs': 'lower' })).toBe(true);
  });
});
