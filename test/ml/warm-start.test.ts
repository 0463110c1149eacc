import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { buildModel, resolveModel } from '../../src/ml/build-model.js';
import type { ModelMeta } from '../../src/ml/model-io.js';
import { checkSameData, copyWeights, freezeLayers, trainableLayers } from '../../src/ml/warm-start.js';
import { checkWarmStart } from '../../src/stages/warm-start.js';
import { makeMeta } from './fixtures.js';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadTf('cpu'));
});

const meta = makeMeta({ task: 'multiclass', features: 4 });
const build = (hidden: number[], seed: number, dropout = 0) => buildModel(tf, resolveModel({ preset: 'mlp', hidden_units: hidden, dropout }, meta), seed);
const values = (m: ReturnType<typeof build>) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('copyWeights', () => {
  it('copies every weight of a model of the same architecture, leaving the source usable and disposable', () => {
    const source = build([8], 1);
    const target = build([8], 2);
    expect(values(target)).not.toEqual(values(source));
    expect(copyWeights(target, source, 'iris@3')).toEqual({ layers: 2, weights: 4 });
    const copied = values(target);
    expect(copied).toEqual(values(source));
    source.dispose();
    expect(values(target)).toEqual(copied);
    target.dispose();
  });

  it('pairs the layers with weights, so a dropout layer added between them still matches', () => {
    const source = build([8], 1);
    const target = build([8], 2, 0.5);
    expect(trainableLayers(target).map((l) => l.name)).toEqual(['dense_1', 'dropout_2', 'dense_3']);
    expect(copyWeights(target, source, 'iris@3').layers).toBe(2);
    expect(values(target)).toEqual(values(source));
  });

  it('names the first layer whose weights differ, with the expected and the actual shape, and copies nothing', () => {
    const source = build([8], 1);
    const target = build([16], 2);
    const before = values(target);
    expect(() => copyWeights(target, source, 'iris@3')).toThrowErrorMatchingInlineSnapshot(`
      [ArchitectureMismatchError: init_from iris@3: layer 0 dense_1: kernel expected [4, 8] (the shape in iris@3), got [4, 16]
        hint: init_from needs the architecture of the model it starts from: the same layers with weights, in the same order and of the same sizes; change model to match it, or train without init_from]
    `);
    expect(values(target)).toEqual(before);
  });

  it('adds the depths when they differ, and names a layer left without a counterpart', () => {
    expect(() => copyWeights(build([8, 8], 2), build([8], 1), 'iris@production')).toThrow(
      'init_from iris@production: layer 1 dense_2: kernel expected [8, 3] (the shape in iris@production), got [8, 8] (this model has 3 layers with weights, it has 2)',
    );
    const layers = (...units: number[]) => buildModel(tf, resolveModel({ layers: [...units.map((u) => ({ type: 'dense' as const, units: u, activation: 'relu' as const })), { type: 'dense', units: 3, activation: 'softmax' }] }, meta), 1);
    expect(() => copyWeights(layers(5, 3), layers(5), 'iris@1')).toThrow('init_from iris@1: layer 2 dense_3 (Dense) has no counterpart there (this model has 3 layers with weights, it has 2)');
  });
});

describe('freezeLayers', () => {
  it('freezes by name and by position; frozen layers leave the trainable weights', () => {
    const model = build([8, 8], 1);
    expect(model.trainableWeights).toHaveLength(6);
    expect(freezeLayers(model, ['dense_1', 1])).toEqual(['dense_1', 'dense_2']);
    expect(model.trainableWeights.map((w) => w.originalName)).toEqual(['dense_3/kernel', 'dense_3/bias']);
  });

  it('refuses an unknown name (with the closest one) or a position past the end, listing the layers', () => {
    const model = build([8], 1);
    expect(() => freezeLayers(model, ['dense1'])).toThrow('freeze names the layer "dense1", which the model does not have\n  hint: did you mean "dense_1"?; the layers are 0 dense_1, 1 dense_2');
    expect(() => freezeLayers(model, [5])).toThrow('freeze names layer 5, but the model has 2 (0 to 1)');
  });
});

describe('checkSameData', () => {
  const source = { labels: ['c0', 'c1', 'c2'], dataset: meta } as unknown as ModelMeta;
  it('passes the same columns and labels, refuses other columns or other labels', () => {
    expect(() => checkSameData('iris@1', source, meta)).not.toThrow();
    const renamed = { ...meta, featureNames: ['f0', 'g1', 'f2', 'f3'] };
    expect(() => checkSameData('iris@1', source, renamed)).toThrow('init_from iris@1: it was trained on other input columns: column 2 is "f1" there, "g1" here (4 columns there, 4 here)');
    const relabelled = { ...meta, labels: ['c1', 'c0', 'c2'] };
    expect(() => checkSameData('iris@1', source, relabelled)).toThrow('init_from iris@1: it predicts the labels [c0, c1, c2], this dataset has [c1, c0, c2]');
  });
});

describe('checkWarmStart (spec-time)', () => {
  it('accepts registry and run references, refuses a malformed one and freeze without init_from', () => {
    expect(checkWarmStart({ init_from: 'iris@production', freeze: [0] })).toEqual([]);
    expect(checkWarmStart({ init_from: 'r-7f3a/train' })).toEqual([]);
    expect(checkWarmStart({ init_from: 'iris@v0' }).map((i) => i.message)).toEqual(['invalid model reference "iris@v0": version v0 is not a positive integer']);
    expect(checkWarmStart({ freeze: ['dense_1'] })).toEqual([
      { path: ['freeze'], message: 'freeze keeps layers of the model init_from starts from; without init_from they would stay at their random initial weights', hint: 'add init_from: NAME@ALIAS, or remove freeze' },
    ]);
  });
});
