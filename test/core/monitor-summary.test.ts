import { describe, expect, it } from 'vitest';
import type { LoggedPrediction } from '../../src/core/monitor/prediction-log.js';
import { LiveSummarizer } from '../../src/app/monitor/live-summary.js';
import { quantiles, shareDistance } from '../../src/app/monitor/distribution.js';
import { referenceOf } from '../../src/app/monitor/test-reference.js';
import { judge, type MonitorThresholds } from '../../src/app/monitor/verdict.js';
import { parseDuration } from '../../src/cli/duration-flag.js';
import type { DatasetMeta } from '../../src/ml/dataset.js';
import { makeMeta } from '../ml/fixtures.js';

/** x ~ training mean 10, std 2; colour one of red/green. */
function meta(task: 'multiclass' | 'regression'): DatasetMeta {
  const m = makeMeta({ task, features: 1, classes: 3 });
  m.features = [
    { name: 'x', type: 'numeric', encoding: 'zscore', stats: { mean: 10, std: 2, min: 0, max: 20 } },
    { name: 'colour', type: 'categorical', encoding: 'onehot', categories: ['green', 'red'] },
  ];
  return m;
}

let seq = 0;
function logged(input: Record<string, unknown>, prediction: LoggedPrediction['prediction'], label?: string | number, version = 1): LoggedPrediction {
  const id = `r${seq++}`;
  return { id: `${id}/0`, requestId: id, row: 0, time: 0, model: 'm', version, input, prediction, ...(label === undefined ? {} : { label }) };
}

const thresholds: MonitorThresholds = { maxDrift: 1, maxUnknown: 0.1, minRows: 10 };

function classSummary(rows: LoggedPrediction[]) {
  const s = new LiveSummarizer({ task: 'multiclass', dataset: meta('multiclass') }, 1);
  for (const r of rows) s.add(r);
  return s.finish();
}

describe('LiveSummarizer', () => {
  it('takes the mean of every row of the version against the training statistics, and leaves other versions out', () => {
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => logged({ x: 14 + (i % 2), colour: i < 5 ? 'blue' : 'red' }, { label: 'c0' })),
      logged({ x: 1000, colour: 'red' }, { label: 'c1' }, undefined, 2),
      logged({ x: 1000, colour: 'red' }, { label: 'c1' }, undefined, 3),
    ];
    const s = classSummary(rows);
    expect(s.rows).toBe(20);
    expect(s.otherVersions).toEqual({ v2: 1, v3: 1 });
    const [x, colour] = s.drift.features;
    expect(x).toMatchObject({ feature: 'x', rows: 20, recentMean: 14.5, trainingMean: 10, trainingStd: 2, zScore: 2.25, missingRatio: 0 });
    expect(colour).toMatchObject({ feature: 'colour', rows: 20, unknownRatio: 0.25 });
  });

  it('computes accuracy over the rows that got feedback only, and the predicted class shares over all', () => {
    const rows = [
      logged({ x: 10, colour: 'red' }, { label: 'c0' }, 'c0'),
      logged({ x: 10, colour: 'red' }, { label: 'c0' }, 'c1'),
      logged({ x: 10, colour: 'red' }, { label: 'c1' }, 'c1'),
      logged({ x: 10, colour: 'red' }, { label: 'c1' }, 'c1'),
      logged({ x: 10, colour: 'red' }, { label: 'c1' }),
      logged({ x: 10, colour: 'red' }, { label: 'c2' }),
    ];
    const s = classSummary(rows);
    expect(s.performance).toEqual({ metric: 'accuracy', labeled: 4, value: 0.75 });
    expect(s.predictions).toEqual({ kind: 'classes', shares: { c0: 2 / 6, c1: 3 / 6, c2: 1 / 6 } });
  });

  it('has no accuracy value when no row got feedback', () => {
    expect(classSummary([logged({ x: 10, colour: 'red' }, { label: 'c0' })]).performance).toEqual({ metric: 'accuracy', labeled: 0 });
  });

  it('computes MAE and quantiles for a regression model', () => {
    const s = new LiveSummarizer({ task: 'regression', dataset: meta('regression') }, 1);
    [1, 2, 3, 4, 5].forEach((v, i) => s.add(logged({ x: 10, colour: 'red' }, { value: v }, i < 2 ? v + 2 : undefined)));
    const out = s.finish();
    expect(out.performance).toEqual({ metric: 'mae', labeled: 2, value: 2 });
    expect(out.predictions).toEqual({ kind: 'values', quantiles: { n: 5, mean: 3, p10: 1.4, p50: 3, p90: 4.6 } });
  });
});

describe('judge', () => {
  const healthyRows = () => Array.from({ length: 12 }, (_, i) => logged({ x: 9 + (i % 3), colour: 'red' }, { label: 'c0' }, i < 4 ? 'c0' : undefined));

  it('is healthy when no threshold is crossed', () => {
    expect(judge(classSummary(healthyRows()), { ...thresholds, minAccuracy: 0.9 })).toEqual({ healthy: true, reasons: [], notes: [] });
  });

  it('names each drifted feature, with its figures and the threshold', () => {
    const rows = Array.from({ length: 12 }, (_, i) => logged({ x: 13, colour: i < 3 ? 'blue' : 'red' }, { label: 'c0' }));
    const v = judge(classSummary(rows), thresholds);
    expect(v.healthy).toBe(false);
    expect(v.reasons).toEqual([
      'x drifted: mean 13 vs 10 in training, z-score 1.5 beyond --max-drift 1',
      'colour: 25% of the values are categories unseen in training, more than --max-unknown 0.1',
    ]);
    expect(judge(classSummary(rows), { ...thresholds, maxDrift: 2, maxUnknown: 0.3 }).healthy).toBe(true);
  });

  it('does not judge drift below --min-rows, and says so', () => {
    const rows = Array.from({ length: 5 }, () => logged({ x: 30, colour: 'red' }, { label: 'c0' }));
    expect(judge(classSummary(rows), thresholds)).toEqual({ healthy: true, reasons: [], notes: ['5 rows in the period: input drift is judged from --min-rows 10'] });
  });

  it('fails on live accuracy below --min-accuracy, over the labeled rows only; notes when nothing is labeled', () => {
    const rows = healthyRows().map((r, i) => (i < 4 ? { ...r, label: i === 0 ? 'c0' : 'c2' } : r));
    expect(judge(classSummary(rows), { ...thresholds, minAccuracy: 0.5 }).reasons).toEqual(['live accuracy 0.25 over 4 labeled rows, below --min-accuracy 0.5']);
    expect(judge(classSummary(rows), { ...thresholds, minAccuracy: 0.25 }).healthy).toBe(true);
    expect(judge(classSummary(rows), thresholds).healthy).toBe(true); // no --min-accuracy: not judged
    const unlabeled = healthyRows().map(({ label: _, ...r }) => r);
    expect(judge(classSummary(unlabeled), { ...thresholds, minAccuracy: 0.9 })).toEqual({
      healthy: true,
      reasons: [],
      notes: ['no prediction of the period got a label (POST /feedback): live accuracy is not judged'],
    });
  });

  it('fails on live MAE above --max-mae', () => {
    const s = new LiveSummarizer({ task: 'regression', dataset: meta('regression') }, 1);
    for (let i = 0; i < 12; i++) s.add(logged({ x: 10, colour: 'red' }, { value: 5 }, 8));
    expect(judge(s.finish(), { ...thresholds, maxMae: 2 }).reasons).toEqual(['live MAE 3 over 12 labeled rows, above --max-mae 2']);
  });
});

describe('the test-split reference', () => {
  it('reads class shares and accuracy from predictions.csv rows', () => {
    const rows = [
      { actual: 'a', predicted: 'a' },
      { actual: 'a', predicted: 'b' },
      { actual: 'b', predicted: 'b' },
      { actual: 'c', predicted: 'c' },
    ];
    const ref = referenceOf('p.csv', rows, ['a', 'b', 'c']);
    expect(ref.predictions).toEqual({ kind: 'classes', shares: { a: 0.25, b: 0.5, c: 0.25 } });
    expect(ref.actualShares).toEqual({ a: 0.5, b: 0.25, c: 0.25 });
    expect(ref.performance).toEqual({ metric: 'accuracy', labeled: 4, value: 0.75 });
    expect(shareDistance(ref.predictions.kind === 'classes' ? ref.predictions.shares : {}, { a: 1 })).toBe(0.75);
  });

  it('reads quantiles and MAE of a regression', () => {
    const ref = referenceOf('p.csv', [{ actual: '1', predicted: '2', error: '1' }, { actual: '4', predicted: '1', error: '-3' }], undefined);
    expect(ref.performance).toEqual({ metric: 'mae', labeled: 2, value: 2 });
    expect(ref.predictions).toEqual({ kind: 'values', quantiles: quantiles([1, 2]) });
  });
});

describe('parseDuration', () => {
  it('reads durations with a unit and refuses the rest', () => {
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    for (const bad of ['', '10', 'h', 'soon', '-1h', '0m']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});
