import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import type { DatasetMeta } from '../../src/ml/dataset.js';
import { featureGroups, permutationImportance } from '../../src/ml/permutation-importance.js';

/**
 * 400 rows of [signal, noise, color=red, color=blue]: the label is signal > 0 (flipped on 5% of
 * rows); the "model" predicts signal + 0.1·(color=red) > 0. Shuffling the signal ruins it, the
 * color barely matters, the noise column not at all.
 */
function fixture() {
  const random = seededRandom(3);
  const n = 400;
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const signal = random() * 2 - 1;
    const red = random() < 0.5 ? 1 : 0;
    x.set([signal, random() * 2 - 1, red, 1 - red], i * 4);
    y[i] = (signal > 0 ? 1 : 0) ^ (random() < 0.05 ? 1 : 0);
  }
  const accuracy = (xs: Float32Array | Int32Array) => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (Number(xs[i * 4]! + 0.1 * xs[i * 4 + 2]! > 0) === y[i]) hits++;
    return hits / n;
  };
  return { x, n, accuracy };
}

const meta = {
  inputKind: 'tabular',
  features: [
    { name: 'signal', type: 'numeric', encoding: 'zscore' },
    { name: 'noise', type: 'numeric', encoding: 'zscore' },
    { name: 'color', type: 'categorical', encoding: 'onehot', categories: ['red', 'blue'] },
  ],
} as unknown as DatasetMeta;

describe('permutation importance', () => {
  it('groups a one-hot column back into its source column', () => {
    expect(featureGroups(meta, 4)).toEqual([
      { name: 'signal', offsets: [0] },
      { name: 'noise', offsets: [1] },
      { name: 'color', offsets: [2, 3] },
    ]);
    const text = { inputKind: 'text', features: [], text: { column: 'review' } } as unknown as DatasetMeta;
    expect(featureGroups(text, 3)).toEqual([{ name: 'review', offsets: [0, 1, 2] }]);
  });

  it('the feature that carries the signal ranks first; a pure-noise feature is near zero; the same seed gives the same figures', () => {
    const { x, n, accuracy } = fixture();
    const before = x.slice();
    const r = permutationImportance(x, n, 4, featureGroups(meta, 4), accuracy, { repeats: 5, seed: 1 });
    expect(r.baseline).toBeGreaterThan(0.9);
    const by = Object.fromEntries(r.features.map((f) => [f.name, f]));
    expect(by.signal!.mean).toBeGreaterThan(0.3);
    expect(by.signal!.drops).toHaveLength(5);
    expect(by.signal!.std).toBeGreaterThanOrEqual(0);
    expect(by.signal!.std).toBeLessThan(0.1);
    expect(by.noise!.mean).toBe(0);
    expect(by.noise!.std).toBe(0);
    expect(Math.abs(by.color!.mean)).toBeLessThan(0.1);
    expect([...r.features].sort((a, b) => b.mean - a.mean)[0]!.name).toBe('signal');
    expect(x).toEqual(before);
    expect(permutationImportance(x, n, 4, featureGroups(meta, 4), accuracy, { repeats: 5, seed: 1 })).toEqual(r);
    expect(permutationImportance(x, n, 4, featureGroups(meta, 4), accuracy, { repeats: 5, seed: 2 }).features[0]!.drops).not.toEqual(by.signal!.drops);
  });

  it('a lower-is-better metric counts its rise as the drop', () => {
    const { x, n, accuracy } = fixture();
    const error = (xs: Float32Array | Int32Array) => 1 - accuracy(xs);
    const r = permutationImportance(x, n, 4, featureGroups(meta, 4), error, { repeats: 3, seed: 1, lowerIsBetter: true });
    expect(r.features[0]!.name).toBe('signal');
    expect(r.features[0]!.mean).toBeGreaterThan(0.3);
  });
});
