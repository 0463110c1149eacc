import { describe, expect, it } from 'vitest';
import { findImportance, isImportanceKey } from '../../src/app/report/importance.js';
import { findSlices, isSliceKey } from '../../src/app/report/slices.js';
import type { MetricPoint } from '../../src/core/tracker/types.js';
import { groupRunMetrics } from '../../src/serve/ui/metric-groups.js';

const final = (stage: string, key: string, value: number, step: number | null = null): MetricPoint => ({ runId: 'r', stage, key, step, value, time: 0 });
const finals = (points: MetricPoint[]) => Object.fromEntries(points.filter((p) => p.step === null).map((p) => [`${p.stage}.${p.key}`, p.value]));

describe('metric name groups (run page)', () => {
  it('tells importance and slice keys from the rest', () => {
    expect(['importance.petal_width.mean', 'importance.x.std'].map(isImportanceKey)).toEqual([true, true]);
    expect(['importance.x', 'importance.x.max', 'accuracy'].map(isImportanceKey)).toEqual([false, false, false]);
    expect(['slices.island.Biscoe.accuracy', 'slices.island.Biscoe.n', 'slices.island.accuracy_gap', 'slices.sex._missing.scores.f1'].map(isSliceKey)).toEqual([true, true, true, true]);
    expect(['slices.island.accuracy', 'slices.island', 'slice.island.a.b', 'accuracy_gap'].map(isSliceKey)).toEqual([false, false, false, false]);
  });

  it('builds a slice table per column: values sorted, n, each metric, the gaps', () => {
    const found = findSlices([
      final('evaluate', 'slices.sex.male.accuracy', 0.9),
      final('evaluate', 'slices.island.Torgersen.n', 20),
      final('evaluate', 'slices.island.Torgersen.accuracy', 1),
      final('evaluate', 'slices.island.Biscoe.n', 70),
      final('evaluate', 'slices.island.Biscoe.accuracy', 0.8),
      final('evaluate', 'slices.island.Biscoe.scores.f1', 0.75),
      final('evaluate', 'slices.island.accuracy_gap', 0.2),
      final('evaluate', 'slices.island.Biscoe.accuracy', 0.1, 3),
      final('train', 'slices.island.Dream.accuracy', 0.5),
    ]);
    expect(found).toEqual({
      stage: 'evaluate',
      columns: [
        {
          column: 'island',
          metrics: ['accuracy', 'scores.f1'],
          values: [
            { value: 'Biscoe', n: 70, metrics: { accuracy: 0.8, 'scores.f1': 0.75 } },
            { value: 'Torgersen', n: 20, metrics: { accuracy: 1 } },
          ],
          gaps: { accuracy: 0.2 },
        },
        { column: 'sex', metrics: ['accuracy'], values: [{ value: 'male', n: null, metrics: { accuracy: 0.9 } }], gaps: {} },
      ],
    });
    expect(findSlices([final('evaluate', 'accuracy', 0.9)])).toBeUndefined();
  });

  it('orders importance by mean drop, largest first, with the std', () => {
    const found = findImportance([
      final('eval', 'importance.sepal_width.mean', 0.01),
      final('eval', 'importance.petal_length.mean', 0.3),
      final('eval', 'importance.petal_length.std', 0.05),
      final('eval', 'importance.sepal_width.std', 0.02),
    ]);
    expect(found).toEqual({
      stage: 'eval',
      rows: [
        { feature: 'petal_length', mean: 0.3, std: 0.05 },
        { feature: 'sepal_width', mean: 0.01, std: 0.02 },
      ],
    });
  });

  it("leaves the shown stage's importance and slice metrics out of the generic list, and nothing else", () => {
    const points = [
      final('evaluate', 'accuracy', 0.95),
      final('evaluate', 'importance.a.mean', 0.2),
      final('evaluate', 'importance.a.std', 0.01),
      final('evaluate', 'slices.c.x.accuracy', 0.9),
      final('evaluate', 'slices.c.x.n', 10),
      final('evaluate', 'slices.c.accuracy_gap', 0.1),
      final('evaluate', 'slices.c', 4),
      final('train', 'importance.a.mean', 0.5),
      final('train@lr0.1', 'accuracy', 0.7),
    ];
    const g = groupRunMetrics(points, finals(points), ['evaluate', 'train', 'train@lr0.1']);
    expect(g.metrics).toEqual({ 'evaluate.accuracy': 0.95, 'evaluate.slices.c': 4, 'train.importance.a.mean': 0.5, 'train@lr0.1.accuracy': 0.7 });
    expect(g.importance).toEqual({ stage: 'evaluate', rows: [{ feature: 'a', mean: 0.2, std: 0.01 }] });
    expect(g.slices?.columns.map((c) => c.column)).toEqual(['c']);
    expect(groupRunMetrics([final('evaluate', 'accuracy', 1)], { 'evaluate.accuracy': 1 }, ['evaluate'])).toEqual({ metrics: { 'evaluate.accuracy': 1 }, importance: null, slices: null });
  });
});
