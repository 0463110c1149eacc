import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess, type PreprocessConfig } from '../../src/stages/preprocess.js';
import type { StageContext } from '../../src/core/stage-kind.js';
import type { ModelRegistry } from '../../src/core/tracker/types.js';
import { readDataset } from '../../src/ml/dataset.js';
import { transformRows } from '../../src/ml/transform.js';
import { readTable } from '../../src/ml/read-table.js';
import { DataError } from '../../src/ml/errors.js';
import { validateField, type FieldIssue } from '../../src/schema/validate-fields.js';
import { tempDir, withFiles } from './data-helpers.js';
import { resolveConfig, runStage } from './preprocess-helpers.js';

const IRIS_LIKE = [
  'size,color,weight,label',
  ...Array.from({ length: 40 }, (_, i) => `${(i % 7) + 1}.5,${['red', 'green', 'blue'][i % 3]},${i % 5 === 0 ? '' : 10 + i},${i % 4 === 0 ? 'b' : 'a'}`),
].join('\n');

describe('preprocess stage', () => {
  it('accepts the DESIGN.md example and fills defaults', () => {
    const c = resolveConfig({
      input: 'data/reviews.csv',
      target: 'label',
      text: { column: 'text', tokenizer: 'word', vocab_size: 10000, max_length: 64 },
      split: { test: 0.2, validation: 0.1, seed: 42, stratify: true },
    });
    expect(c).toMatchObject({ missing: 'drop', normalize: 'zscore', shuffle: true, text: { padding: 'pre', oov_token: '<oov>', lowercase: true } });
    expect(resolveConfig({ input: 'a.csv', target: 'y', split: { test: 0.3 } }).split).toEqual({ test: 0.3, validation: 0.1, seed: 42, stratify: true });
    const issues: FieldIssue[] = [];
    validateField({ input: 'a.csv', target: 'y', missing: { fill: 'average' }, split: { test: 1 } }, preprocess.config, issues);
    expect(issues.map((i) => i.path.join('.'))).toEqual(['missing.fill', 'split.test']);
  });

  it('declares one dataset output', () => {
    expect(preprocess.kind).toBe('preprocess');
    expect(preprocess.outputs({} as PreprocessConfig)).toEqual({ dataset: { path: 'dataset', location: 'stage' } });
    expect(preprocess.config.required).toEqual(['input', 'target']);
  });

  it('reads, fills, encodes and splits a CSV, stratified', async () => {
    const ws = await withFiles({ 'data.csv': IRIS_LIKE });
    const { result, lines, dir } = await runStage(ws, {
      input: join(ws, 'data.csv'),
      target: 'label',
      missing: 'mean',
      split: { test: 0.25, validation: 0, seed: 3, stratify: true },
    });
    expect(result).toEqual({
      metrics: { rows_read: 40, rows: 40, dropped: 0, train_rows: 30, validation_rows: 0, test_rows: 10, inputs: 5, classes: 2 },
    });
    expect(lines).toEqual([
      'read 40 rows from data.csv: kept 40, dropped 0 with missing values',
      'task binary, 2 classes (a 30, b 10); 3 columns → 5 inputs',
      'split train 30 / validation 0 / test 10 (seed 3)',
    ]);
    const ds = await readDataset(dir);
    const { meta } = ds;
    expect(meta.featureNames).toEqual(['size', 'color=blue', 'color=green', 'color=red', 'weight']);
    expect(meta.labels).toEqual(['a', 'b']);
    expect(Object.keys(meta.splits)).toEqual(['test', 'train']);
    expect(meta.source).toEqual({ file: 'data.csv', rows: 40, dropped: 0 });
    const train = ds.splits.train!;
    let mean = 0;
    for (let r = 0; r < train.n; r++) mean += train.x[r * 5]!;
    expect(Math.abs(mean / train.n)).toBeLessThan(1e-6);
    expect(Array.from(ds.splits.test!.y).filter((v) => v === 1).length).toBe(2);

    expect(() => transformRows(meta, [{ size: 'big', color: 'red', weight: 1 }])).toThrow('row 1, column "size": expected a number, got "big"');
  });

  it('fits statistics on the train rows only, and transformRows reproduces the train split exactly', async () => {
    const ws = await withFiles({ 'data.csv': IRIS_LIKE });
    const { dir } = await runStage(ws, {
      input: join(ws, 'data.csv'),
      target: 'label',
      missing: { fill: 'median' },
      shuffle: false,
      split: { test: 0.5, validation: 0, stratify: false },
    });
    const ds = await readDataset(dir);
    const table = await readTable(join(ws, 'data.csv'));
    const rows = table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]])));
    const firstHalf = rows.slice(0, 20);
    const sizes = firstHalf.map((r) => Number(r.size));
    const mean = sizes.reduce((a, b) => a + b, 0) / 20;
    expect(ds.meta.features[0]!.stats!.mean).toBeCloseTo(mean, 12);
    const weights = firstHalf.map((r) => r.weight).filter((w) => w !== '').map(Number).sort((a, b) => a - b);
    expect(ds.meta.features[2]!.fill).toBe((weights[7]! + weights[8]!) / 2);
    expect(transformRows(ds.meta, firstHalf)).toEqual({ x: ds.splits.train!.x, xShape: [20, 5] });
    expect(transformRows(ds.meta, rows.slice(20))).toEqual({ x: ds.splits.test!.x, xShape: [20, 5] });
  });

  it('drops rows with missing values by default and writes identical meta twice', async () => {
    const ws = await withFiles({ 'data.csv': IRIS_LIKE });
    const a = await runStage(ws, { input: join(ws, 'data.csv'), target: 'label' });
    const b = await runStage(ws, { input: join(ws, 'data.csv'), target: 'label' });
    expect(a.result).toMatchObject({ metrics: { rows: 32, dropped: 8 } });
    expect(await readFile(join(a.dir, 'meta.json'), 'utf8')).toBe(await readFile(join(b.dir, 'meta.json'), 'utf8'));
    expect(await readFile(join(a.dir, 'train.bin'))).toEqual(await readFile(join(b.dir, 'train.bin')));
  });

  it('tokenizes a Chinese text column into word ids, with a capped vocabulary', async () => {
    const texts = ['我爱中国', '今天天气很好', '我不喜欢下雨', '这个电影很好看', '服务太差了', '我爱这家店'];
    const jsonl = texts.map((t, i) => JSON.stringify({ text: t, label: i % 2 })).join('\n');
    const ws = await withFiles({ 'reviews.jsonl': jsonl });
    const { result, dir } = await runStage(ws, {
      input: join(ws, 'reviews.jsonl'),
      target: 'label',
      text: { column: 'text', tokenizer: 'word', vocab_size: 6, max_length: 4 },
      split: { test: 0, validation: 0 },
    });
    expect(result).toMatchObject({ metrics: { rows: 6, train_rows: 6, vocab_size: 6, inputs: 4, classes: 2 } });
    const ds = await readDataset(dir);
    expect(ds.meta.text).toMatchObject({ tokenizer: 'word', padding: 'pre', truncating: 'post', maxLength: 4, lowercase: true });
    expect(ds.meta.text!.vocab).toEqual(['<pad>', '<oov>', '很好', '我', '爱', '下雨']);
    expect(Array.from(transformRows(ds.meta, [{ text: '我爱中国' }, { text: '下雨很好很好很好很好' }]).x)).toEqual([0, 3, 4, 1, 5, 2, 2, 2]);
    expect(ds.splits.train!.x).toBeInstanceOf(Int32Array);
  });

  it('infers regression for a many-valued numeric target', async () => {
    const csv = ['x,y', ...Array.from({ length: 30 }, (_, i) => `${(i * 7) % 30},${((i * 7) % 30) * 1.5 + 2}`)].join('\n');
    const ws = await withFiles({ 'r.csv': csv });
    const { dir } = await runStage(ws, { input: join(ws, 'r.csv'), target: 'y', normalize: 'minmax' });
    const ds = await readDataset(dir);
    expect(ds.meta.task).toBe('regression');
    expect(ds.meta.labels).toBeUndefined();
    expect(ds.meta.features[0]!.encoding).toBe('minmax');
    expect(Math.min(...ds.splits.train!.x)).toBe(0);
    expect(Math.max(...ds.splits.train!.x)).toBe(1);
  });

  it('reports bad data clearly', async () => {
    const words = ['x,label', ...Array.from({ length: 20 }, (_, i) => `${i === 13 ? 'oops' : i},${i % 2}`)].join('\n');
    const ws = await withFiles({ 'w.csv': words, 'one.csv': 'x,label\n1,a\n2,a\n' });
    const bad = await runStage(ws, { input: join(ws, 'w.csv'), target: 'label' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(DataError);
    expect((bad as DataError).message).toMatchInlineSnapshot(`
      "w.csv:15 (row 14), column "x": expected a number, got "oops"
        hint: declare the column categorical (columns: { "x": { type: categorical } }), add the value to na_values if it marks a missing value, set decimal/thousands if numbers are written another way, or fix the data"
    `);
    await expect(runStage(ws, { input: join(ws, 'w.csv'), target: 'lable' })).rejects.toThrow(
      'w.csv: has no column "lable" (named by target)\n  hint: the columns are: x, label',
    );
    await expect(runStage(ws, { input: join(ws, 'one.csv'), target: 'label' })).rejects.toThrow('target "label" has a single class ("a") in 2 rows');
    await expect(runStage(ws, { input: join(ws, 'w.csv'), target: 'label', features: ['x'], text: { column: 'x' } })).rejects.toThrow(
      'lists the text column "x" among the features',
    );
    const declared = await runStage(ws, { input: join(ws, 'w.csv'), target: 'label', columns: { x: { type: 'categorical' } } });
    expect(declared.result).toMatchObject({ metrics: { rows: 20 } });
  });

  it('removes duplicate rows when asked', async () => {
    const ws = await withFiles({ 'd.csv': 'a,label\n1,x\n1,x\n2,y\n1,y\n2,y\n3,x\n' });
    const { result } = await runStage(ws, { input: join(ws, 'd.csv'), target: 'label', dedupe: true, split: { test: 0, validation: 0 } });
    expect(result).toMatchObject({ metrics: { rows_read: 6, rows: 4, duplicates: 2, dropped: 2 } });
  });
});
