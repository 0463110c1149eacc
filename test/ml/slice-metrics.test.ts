import { describe, expect, it } from 'vitest';
import { accuracy } from '../../src/ml/metrics.js';
import { metricKeyPart } from '../../src/ml/metric-key.js';
import { predictionMetrics, subsetPredictions } from '../../src/ml/score-split.js';
import { sliceColumns, sliceMetricsOf } from '../../src/ml/slice-metrics.js';
import { DataError } from '../../src/ml/errors.js';

describe('slice metrics', () => {
  // 10 rows: the model is right on every "female" row and on 2 of the 4 "male" rows.
  const y = Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const predicted = Int32Array.from([0, 1, 0, 1, 0, 1, 1, 0, 0, 1]);
  const sex = ['female', 'female', 'female', 'female', 'female', 'female', 'male', 'male', 'male', 'male'];
  const island = ['Biscoe', 'Dream', 'Biscoe', 'Dream', 'Biscoe', 'Dream', 'Biscoe', 'Dream', '', ''];
  const score = (rows: Int32Array) => ({ accuracy: accuracy(Array.from(rows, (i) => y[i]!), Array.from(rows, (i) => predicted[i]!)) });

  it('scores each value apart and takes the largest difference as the gap, per metric', () => {
    const [bySex, byIsland] = sliceColumns({ sex, island }, ['sex', 'island'], score);
    expect(bySex!.slices.map((s) => [s.value, s.n, s.metrics.accuracy])).toEqual([
      ['female', 6, 1],
      ['male', 4, 0.5],
    ]);
    expect(bySex!.gaps.accuracy).toBe(0.5);
    expect(byIsland!.slices.map((s) => [s.key, s.n, s.metrics.accuracy])).toEqual([
      ['_missing', 2, 1],
      ['Biscoe', 4, 0.75],
      ['Dream', 4, 0.75],
    ]);
    expect(byIsland!.gaps.accuracy).toBe(0.25);
    const metrics = sliceMetricsOf([bySex!, byIsland!]);
    expect(metrics).toMatchObject({ 'slices.sex.female.accuracy': 1, 'slices.sex.male.accuracy': 0.5, 'slices.sex.female.n': 6, 'slices.sex.accuracy_gap': 0.5, 'slices.island._missing.n': 2, 'slices.island.accuracy_gap': 0.25 });
  });

  it('a gap covers the slices that have the metric (a one-class slice has no auc); one value gives a gap of 0', () => {
    const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.4, 0.6]);
    const p = { n: 4, classes: Int32Array.from([0, 1, 0, 1]), probabilities: probs };
    const yy = Float32Array.from([0, 1, 0, 0]);
    const [c] = sliceColumns({ g: ['a', 'a', 'b', 'b'] }, ['g'], (rows) => {
      const sub = subsetPredictions(p, yy, rows);
      return predictionMetrics(sub.p, sub.y, { classes: 2 });
    });
    expect(c!.slices[0]!.metrics.auc).toBe(1);
    expect(c!.slices[1]!.metrics.auc).toBeUndefined();
    expect(c!.gaps.auc).toBe(0);
    expect(c!.gaps.accuracy).toBe(0.5);
    const [one] = sliceColumns({ g: ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'] }, ['g'], score);
    expect(one!.gaps.accuracy).toBe(0);
  });

  it('values become metric-key parts a gate can name; two values that would share one are an error, as is a column the dataset does not keep', () => {
    expect(metricKeyPart('Biscoe Island')).toBe('Biscoe_Island');
    expect(metricKeyPart('18-24')).toBe('18_24');
    expect(metricKeyPart('')).toBe('_missing');
    expect(() => sliceColumns({ g: ['a b', 'a-b', 'a b', 'a-b', 'a b', 'a-b', 'a b', 'a-b', 'a b', 'a-b'] }, ['g'], score)).toThrow(/the values "a b" and "a-b" of slice column "g" would both be named "a_b"/);
    expect(() => sliceColumns({ sex }, ['Sex'], score)).toThrow(DataError);
  });
});
