import { describe, expect, it } from 'vitest';
import { dedupeRows, seededRandom, splitRows } from '../../src/ml/split.js';

const counts = (idx: number[], strata: number[]) => {
  const c = [0, 0, 0];
  for (const i of idx) c[strata[i]!]!++;
  return c;
};

describe('splitRows', () => {
  const strata = Array.from({ length: 100 }, (_, i) => (i < 60 ? 0 : i < 90 ? 1 : 2));

  it('keeps class ratios in every split when stratified', () => {
    const s = splitRows(100, { test: 0.2, validation: 0.1, seed: 7, shuffle: true, strata });
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([70, 10, 20]);
    expect(counts(s.test, strata)).toEqual([12, 6, 2]);
    expect(counts(s.validation, strata)).toEqual([6, 3, 1]);
    expect(counts(s.train, strata)).toEqual([42, 21, 7]);
    expect([...s.train, ...s.validation, ...s.test].sort((a, b) => a - b)).toEqual(strata.map((_, i) => i));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = splitRows(100, { test: 0.2, validation: 0.1, seed: 7, shuffle: true, strata });
    const b = splitRows(100, { test: 0.2, validation: 0.1, seed: 7, shuffle: true, strata });
    const c = splitRows(100, { test: 0.2, validation: 0.1, seed: 8, shuffle: true, strata });
    expect(b).toEqual(a);
    expect(c.test).not.toEqual(a.test);
  });

  it('keeps file order without shuffling: train first, test last', () => {
    expect(splitRows(10, { test: 0.2, validation: 0.1, seed: 1, shuffle: false })).toEqual({
      train: [0, 1, 2, 3, 4, 5, 6],
      validation: [7],
      test: [8, 9],
    });
  });

  it('rejects fractions that leave nothing', () => {
    expect(() => splitRows(10, { test: 0.6, validation: 0.4, seed: 1, shuffle: true })).toThrow(RangeError);
  });
});

describe('helpers', () => {
  it('the PRNG repeats its sequence for a seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('dedupe keeps first occurrences', () => {
    expect(dedupeRows(['a', 'b', 'a', 'c', 'b'])).toEqual([0, 1, 3]);
  });
});
