import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/ml/dataset.js';
import { cvMetrics, refitEpochs, summarize } from '../../src/ml/cross-validate.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { stageContext } from './fixtures.js';
import { foldSizes, splitFolds } from '../../src/ml/kfold.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from './data-helpers.js';
import { runStage } from './preprocess-helpers.js';

const iris = join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv');
const cars = join(repoRoot, 'pipelines', 'fuel-economy', 'data', 'cars.json');

async function workspaceWith(file: string, name: string): Promise<string> {
  const ws = await tempDir();
  await copyFile(file, join(ws, name));
  return ws;
}

describe('splitFolds', () => {
  const strata = Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));

  it('stratified: every fold keeps the class ratio, sizes differ by at most one, the same seed gives the same folds', () => {
    const a = splitFolds(100, { k: 5, test: 0.2, seed: 3, shuffle: true, strata });
    expect(a.parts.validation).toEqual([]);
    expect([a.parts.train.length, a.parts.test.length]).toEqual([80, 20]);
    expect(foldSizes(a.folds, 5)).toEqual([16, 16, 16, 16, 16]);
    for (let f = 0; f < 5; f++) expect(a.parts.train.filter((_, i) => a.folds[i] === f && strata[a.parts.train[i]!] === 1).length).toBeGreaterThanOrEqual(4);
    expect(splitFolds(100, { k: 5, test: 0.2, seed: 3, shuffle: true, strata })).toEqual(a);
    expect([...splitFolds(100, { k: 5, test: 0.2, seed: 4, shuffle: true, strata }).folds]).not.toEqual([...a.folds]);
  });

  it('groups: no group in two folds nor in a fold and the test split', () => {
    const groups = Array.from({ length: 60 }, (_, i) => `g${i % 13}`);
    const s = splitFolds(60, { k: 4, test: 0.2, seed: 1, shuffle: true, groups });
    const foldOf = new Map<string, number>();
    s.parts.train.forEach((row, i) => {
      const g = groups[row]!;
      expect(foldOf.get(g) ?? s.folds[i]).toBe(s.folds[i]);
      foldOf.set(g, s.folds[i]!);
    });
    for (const row of s.parts.test) expect(foldOf.has(groups[row]!)).toBe(false);
    expect(s.parts.test.length).toBeGreaterThanOrEqual(12);
    expect(s.strategy).toBe('group');
  });

  it('predefined: each value a fold (numeric order), `test` rows the test split; kfold must agree', () => {
    const values = ['2', '10', 'test', '2', '10', '1', 'test'];
    const s = splitFolds(7, { test: 0.2, seed: 1, shuffle: true, predefined: values });
    expect(s).toMatchObject({ k: 3, strategy: 'column', names: ['1', '2', '10'] });
    expect(s.parts.test).toEqual([2, 6]);
    expect(s.parts.train).toEqual([0, 1, 3, 4, 5]);
    expect([...s.folds]).toEqual([1, 2, 1, 2, 0]);
    expect(() => splitFolds(7, { k: 5, test: 0, seed: 1, shuffle: true, predefined: values })).toThrowErrorMatchingInlineSnapshot(`
      [DataError: split.kfold is 5 but split.column holds 3 fold values (1, 2, 10)
        hint: remove split.kfold (the column decides) or make them agree]
    `);
  });

  it('says when there are too few groups for the folds', () => {
    expect(() => splitFolds(10, { k: 5, test: 0, seed: 1, shuffle: true, groups: Array.from({ length: 10 }, (_, i) => `g${i % 3}`) })).toThrow(/needs at least 5 groups in the training rows, there are 3/);
  });
});

describe('preprocess with split.kfold / group / column on the example data', () => {
  it('iris, kfold 5: 30 test rows, 5 stratified folds of 24 (8 of each species), no validation split, folds recorded', async () => {
    const ws = await workspaceWith(iris, 'iris.csv');
    const { result, lines, dir } = await runStage(ws, { input: join(ws, 'iris.csv'), target: 'species', split: { kfold: 5, test: 0.2 } });
    expect(lines).toContain('folds 5 (stratified): 24, 24, 24, 24, 24 rows; the validation split is not used');
    expect(result!.metrics).toMatchObject({ train_rows: 120, validation_rows: 0, test_rows: 30, folds: 5 });
    const ds = await readDataset(dir);
    expect(ds.meta.cv).toEqual({ k: 5, strategy: 'stratified', sizes: [24, 24, 24, 24, 24] });
    expect(Object.keys(ds.meta.splits).sort()).toEqual(['test', 'train']);
    const train = ds.splits.train!;
    for (let f = 0; f < 5; f++) for (let c = 0; c < 3; c++) expect(train.y.filter((y, i) => y === c && train.folds![i] === f).length).toBe(8);
  });

  it('fuel economy grouped by car name: a name (e.g. the several "ford pinto" years) is never in two folds or in a fold and the test split; Name is no feature', async () => {
    const ws = await workspaceWith(cars, 'cars.json');
    const { dir } = await runStage(ws, { input: join(ws, 'cars.json'), target: 'Miles_per_Gallon', task: 'regression', exclude: ['Year'], missing: 'median', split: { kfold: 5, group: 'Name' } });
    const ds = await readDataset(dir);
    const rows = ds.splits;
    const all = JSON.parse(await readFile(cars, 'utf8')) as { Name: string }[];
    const foldOf = new Map<string, number>();
    rows.train!.sourceRows!.forEach((r, i) => {
      const name = all[r - 1]!.Name;
      expect(foldOf.get(name) ?? rows.train!.folds![i]).toBe(rows.train!.folds![i]);
      foldOf.set(name, rows.train!.folds![i]!);
    });
    const testNames = [...rows.test!.sourceRows!].map((r) => all[r - 1]!.Name);
    expect(testNames.filter((n) => foldOf.has(n))).toEqual([]);
    expect(all.filter((r) => r.Name === 'ford pinto').length).toBeGreaterThan(1);
    expect(ds.meta.cv).toMatchObject({ k: 5, strategy: 'group', column: 'Name' });
    expect(ds.meta.features.map((f) => f.name)).not.toContain('Name');
  });

  it('a fold column: its values are the folds, `test` rows the test split, and the column is no feature', async () => {
    const ws = await tempDir();
    const [header, ...rows] = (await readFile(iris, 'utf8')).trim().split('\n');
    await writeFile(join(ws, 'iris-folds.csv'), `${header},fold\n${rows.map((r, i) => `${r},${i % 10 === 9 ? 'test' : i % 3}`).join('\n')}\n`);
    const { dir } = await runStage(ws, { input: join(ws, 'iris-folds.csv'), target: 'species', split: { column: 'fold' } });
    const ds = await readDataset(dir);
    expect(ds.meta.cv).toEqual({ k: 3, strategy: 'column', column: 'fold', names: ['0', '1', '2'], sizes: [45, 45, 45] });
    expect(ds.splits.test!.n).toBe(15);
    expect(ds.meta.featureNames).not.toContain('fold');
    ds.splits.train!.sourceRows!.forEach((r, i) => expect(ds.splits.train!.folds![i]).toBe((r - 1) % 3));
  });
});

describe('cross-validation summary', () => {
  it('mean and population std per metric; refit epochs the rounded mean best epoch', () => {
    const s = summarize([{ accuracy: 0.9, r2: NaN }, { accuracy: 1, r2: 0.5 }]);
    expect(Object.keys(s)).toEqual(['accuracy']);
    expect(s.accuracy!.mean).toBeCloseTo(0.95, 12);
    expect(s.accuracy!.std).toBeCloseTo(0.05, 12);
    const cv = { folds: [3, 4, 6].map((bestEpoch, i) => ({ fold: i + 1, trainRows: 2, heldOutRows: 1, epochsRun: 8, bestEpoch, metrics: {} })), summary: s };
    expect(refitEpochs(cv)).toBe(4);
    expect(cvMetrics(cv)).toEqual({ 'cv.folds': 3, 'cv.accuracy.mean': s.accuracy!.mean, 'cv.accuracy.std': s.accuracy!.std });
  });
});

describe('train on a cross-validated dataset', () => {
  it('iris: one model per fold scored on its held-out fold, per-fold metrics as steps of cv.<metric>, mean ± std, then a refit on all 120 rows', async () => {
    const ws = await workspaceWith(iris, 'iris.csv');
    const { dir } = await runStage(ws, { input: join(ws, 'iris.csv'), target: 'species', split: { kfold: 3, test: 0.2 } });
    const rec = await stageContext<TrainConfig>(train, { data: dir, model: { preset: 'mlp', hidden_units: [8] }, optimizer: { name: 'adam', learning_rate: 0.05 }, epochs: 30, batch_size: 16, early_stopping: { monitor: 'val_loss', patience: 5 } });
    const result = await train.run(rec.ctx);
    const m = result!.metrics!;
    const perFold = rec.metrics.filter((p) => p.key === 'cv.accuracy');
    expect(perFold.map((p) => p.step)).toEqual([1, 2, 3]);
    const mean = perFold.reduce((a, p) => a + p.value, 0) / 3;
    expect(m['cv.accuracy.mean']).toBeCloseTo(mean, 10);
    expect(m['cv.accuracy.std']).toBeCloseTo(Math.sqrt(perFold.reduce((a, p) => a + (p.value - mean) ** 2, 0) / 3), 10);
    expect(m['cv.accuracy.mean']).toBeGreaterThan(0.8);
    expect(m['cv.folds']).toBe(3);
    expect(Object.keys(m)).toEqual(expect.arrayContaining(['cv.f1_macro.mean', 'cv.log_loss.std', 'cv.auc.mean']));
    expect(rec.logs.filter((l) => /^fold \d\/3: trained on 80 rows .* held out 40: accuracy /.test(l))).toHaveLength(3);
    expect(rec.logs).toContain('data: 120 train rows in 3 folds (stratified); each fold is held out once, then the model is refit on all of them');
    const refit = rec.logs.find((l) => l.startsWith('refit: '))!;
    expect(refit).toMatch(/^refit: \d+ epochs on all 120 rows/);
    expect(m.epochs).toBe(Number(refit.split(' ')[1]));
    expect(m.val_loss).toBeUndefined();
  });

  it('rejects validation_split on a cross-validated dataset', async () => {
    const ws = await workspaceWith(iris, 'iris.csv');
    const { dir } = await runStage(ws, { input: join(ws, 'iris.csv'), target: 'species', split: { kfold: 3 } });
    const rec = await stageContext<TrainConfig>(train, { data: dir, model: 'logistic_regression', validation_split: 0.2 });
    await expect(train.run(rec.ctx)).rejects.toThrow(/validation_split 0.2 cannot apply: the dataset is cut into 3 folds/);
  });
});
