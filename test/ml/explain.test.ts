import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import type { DatasetMeta } from '../../src/ml/dataset.js';
import { baselineRow, explainEncoded, explainUnsupported, explainedFeatures, occlusion } from '../../src/ml/explain.js';
import { featureGroups } from '../../src/ml/permutation-importance.js';

/** Rows of [signal, noise, color=red, color=blue] (signal and noise z-scored, so their train mean encodes as 0). */
const meta = {
  inputKind: 'tabular',
  features: [
    { name: 'signal', type: 'numeric', encoding: 'zscore', stats: { mean: 10, std: 2, min: 4, max: 16 } },
    { name: 'noise', type: 'numeric', encoding: 'minmax', stats: { mean: 3, std: 1, min: 1, max: 5 } },
    { name: 'color', type: 'categorical', encoding: 'onehot', categories: ['red', 'blue'] },
  ],
} as unknown as DatasetMeta;

function rows(n: number): Float32Array {
  const random = seededRandom(7);
  const x = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const red = random() < 0.5 ? 1 : 0;
    x.set([random() * 4 - 2, random(), red, 1 - red], i * 4);
  }
  return x;
}

/** A binary "model" whose P(class 1) is a logistic of the signal alone: only that feature matters. */
function signalOnly(x: Float32Array | Int32Array) {
  const n = x.length / 4;
  const probabilities = new Float32Array(n * 2);
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = 1 / (1 + Math.exp(-3 * x[i * 4]!));
    probabilities.set([1 - p, p], 2 * i);
    classes[i] = p >= 0.5 ? 1 : 0;
  }
  return { n, classes, probabilities };
}

describe('occlusion explanations', () => {
  it('the baseline row is each feature\'s train mean after its normalization; a category is the unknown one', () => {
    expect(Array.from(baselineRow(meta, 4))).toEqual([0, 0.5, 0, 0]);
    const ordinal = { inputKind: 'tabular', features: [{ name: 'c', type: 'categorical', encoding: 'ordinal', categories: ['a', 'b'] }, { name: 'v', type: 'numeric', encoding: 'none', stats: { mean: 2.5, std: 1, min: 0, max: 4 } }] } as unknown as DatasetMeta;
    expect(Array.from(baselineRow(ordinal, 2))).toEqual([-1, 2.5]);
    expect(explainedFeatures(meta)).toEqual(['signal', 'noise', 'color']);
  });

  it('the one feature the model uses gets the largest absolute contribution on every row; unused ones get exactly 0', () => {
    const n = 50;
    const x = rows(n);
    const before = x.slice();
    const r = explainEncoded(meta, x, [n, 4], signalOnly);
    expect(r.features).toEqual(['signal', 'noise', 'color']);
    expect(x).toEqual(before);
    const base = signalOnly(x);
    for (let i = 0; i < n; i++) {
      const [signal, noise, color] = [0, 1, 2].map((f) => r.contributions[i * 3 + f]!);
      expect(noise).toBe(0);
      expect(color).toBe(0);
      // The signal at its baseline (0) gives P = 0.5, so its contribution is P(predicted class) − 0.5 > 0.
      const p = base.probabilities[2 * i + base.classes[i]!]!;
      expect(signal).toBeCloseTo(p - 0.5, 6);
      if (Math.abs(x[i * 4]!) > 0.01) expect(Math.abs(signal)).toBeGreaterThan(0);
    }
  });

  it('a regression explains the value; a one-hot group is occluded as a whole', () => {
    const n = 20;
    const x = rows(n);
    // value = 5·(color=red) + 1·(color=blue): with the color at its baseline (unknown: all zeros) it is 0.
    const forward = (xs: Float32Array | Int32Array) => ({ n, values: Float32Array.from({ length: n }, (_, i) => 5 * xs[i * 4 + 2]! + xs[i * 4 + 3]!) });
    const r = occlusion(x, n, 4, featureGroups(meta, 4), baselineRow(meta, 4), forward);
    for (let i = 0; i < n; i++) expect(r.contributions[i * 3 + 2]).toBe(x[i * 4 + 2] === 1 ? 5 : 1);
    expect(Array.from(r.predictions.values!)).toEqual(Array.from(forward(x).values));
  });

  it('refuses multi-target, text-only and image models', () => {
    expect(explainUnsupported({ dataset: meta })).toBeUndefined();
    expect(explainUnsupported({ dataset: meta, outputs: [] as never })).toBe('multi-target models');
    expect(explainUnsupported({ dataset: { ...meta, inputKind: 'text' } })).toMatch(/^text-only models/);
    expect(explainUnsupported({ dataset: { ...meta, inputKind: 'image' } })).toMatch(/^image models/);
  });
});
