import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/ml/dataset.js';
import { readTable } from '../../src/ml/read-table.js';
import { transformRows } from '../../src/ml/transform.js';
import { withFiles } from './data-helpers.js';
import { runStage } from './preprocess-helpers.js';

const rows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i));

describe('messy files: numbers with separators, missing markers, delimiters (issue 13 item 4)', () => {
  it('reads quoted numbers with thousands separators as one numeric column, not hundreds of categories', async () => {
    const csv = ['income,label', ...rows(40, (i) => `"${(10_000 + i * 1_337).toLocaleString('en-US')}",${i % 2 ? 'yes' : 'no'}`)].join('\n');
    const ws = await withFiles({ 'data.csv': csv });
    const { dir, lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'label', split: { test: 0, validation: 0 } });
    const ds = await readDataset(dir);
    expect(ds.meta.features).toMatchObject([{ name: 'income', type: 'numeric' }]);
    expect(ds.meta.featureNames).toEqual(['income']);
    expect(ds.meta.features[0]!.stats!.max).toBe(10_000 + 39 * 1_337);
    expect(lines.some((l) => l.includes('1 columns → 1 inputs'))).toBe(true);
    expect(transformRows(ds.meta, [{ income: '62,617' }]).x[0]).toBeCloseTo((62_617 - ds.meta.features[0]!.stats!.mean) / ds.meta.features[0]!.stats!.std, 4);
  });

  it('reads a semicolon csv with decimal commas and dotted thousands (sniffed delimiter)', async () => {
    const csv = ['preis;menge;klasse', ...rows(30, (i) => `${i === 3 ? '1.234,5' : `${i},25`};${i % 3};${i % 2 ? 'a' : 'b'}`)].join('\n');
    const ws = await withFiles({ 'data.csv': csv });
    const table = await readTable(`${ws}/data.csv`);
    expect(table.columns).toEqual(['preis', 'menge', 'klasse']);
    const { dir, lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'klasse', decimal: ',', normalize: 'none', shuffle: false, split: { test: 0, validation: 0 } });
    expect(lines).toContain('csv delimiter ";" (sniffed)');
    const ds = await readDataset(dir);
    expect(ds.meta.features.map((f) => f.type)).toEqual(['numeric', 'numeric']);
    const x = ds.splits.train!.x;
    expect(Array.from(x.subarray(0, 8))).toEqual([0.25, 0, 1.25, 1, 2.25, 2, 1234.5, 0]);
  });

  it('an explicit delimiter is used as given', async () => {
    const ws = await withFiles({ 'data.csv': ['a|b|label', ...rows(12, (i) => `${i}|${i * 2}|${i % 2}`)].join('\n') });
    const { dir } = await runStage(ws, { input: `${ws}/data.csv`, target: 'label', delimiter: '|', split: { test: 0, validation: 0 } });
    expect((await readDataset(dir)).meta.featureNames).toEqual(['a', 'b']);
  });

  it('the common missing markers (-, n/a, none, #N/A) are missing values, not a reason to stop', async () => {
    const markers = ['-', 'n/a', 'none', '#N/A'];
    const csv = ['x,label', ...rows(24, (i) => `${i % 6 === 5 ? markers[i % 4] : i},${i % 2}`)].join('\n');
    const ws = await withFiles({ 'data.csv': csv });
    const { result } = await runStage(ws, { input: `${ws}/data.csv`, target: 'label', missing: 'mean', split: { test: 0, validation: 0 } });
    expect(result!.metrics).toMatchObject({ rows: 24, dropped: 0 });
    const dropped = await runStage(ws, { input: `${ws}/data.csv`, target: 'label', split: { test: 0, validation: 0 } });
    expect(dropped.result!.metrics).toMatchObject({ rows: 20, dropped: 4 });
  });

  it('na_values replaces the marker list: a value listed there is missing, one left out is data', async () => {
    const csv = ['x,label', ...rows(20, (i) => `${i === 4 ? 'missing' : i},${i % 2}`)].join('\n');
    const ws = await withFiles({ 'data.csv': csv });
    const { result } = await runStage(ws, { input: `${ws}/data.csv`, target: 'label', na_values: ['missing', ''], split: { test: 0, validation: 0 } });
    expect(result!.metrics).toMatchObject({ rows: 19, dropped: 1 });
    const ds = await readDataset((await runStage(ws, { input: `${ws}/data.csv`, target: 'label', na_values: ['missing'], split: { test: 0, validation: 0 } })).dir);
    expect(ds.meta.format).toEqual({ naValues: ['missing'], decimal: '.', thousands: ',' });
  });
});

describe('identifiers and dates are not silently used as features (issue 13 item 5)', () => {
  const customers = (n: number) =>
    ['customer_id,signup,ref,spend,churn', ...rows(n, (i) => `C${String(1000 + ((i * 7919) % 9000)).padStart(5, '0')},2023-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')},${i + 1},${(i * 37) % 100},${i % 3 ? 'no' : 'yes'}`)].join('\n');

  it('leaves out a string id unique per row and a monotonic integer id, with a warning naming each', async () => {
    const ws = await withFiles({ 'data.csv': customers(60) });
    const { dir, lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'churn' });
    expect(lines).toContain('warning: column "customer_id" looks like an identifier (unique in every row (60 values)): left out of the features; list it in `features` or declare its type in `columns` to use it');
    expect(lines).toContain('warning: column "ref" looks like an identifier (consecutive integers in file order, a row number): left out of the features; list it in `features` or declare its type in `columns` to use it');
    const ds = await readDataset(dir, []);
    expect(ds.meta.features.map((f) => f.name)).toEqual(['signup', 'spend']);
  });

  it('expands a date column into numeric parts (default year, month, day, day_of_week) and predict reads raw dates', async () => {
    const ws = await withFiles({ 'data.csv': customers(60) });
    const { dir, lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'churn', exclude: ['customer_id', 'ref'], normalize: 'none' });
    expect(lines).toContain('warning: column "signup" holds dates: expanded into year, month, day, day_of_week (columns.signup.parts to choose)');
    const ds = await readDataset(dir, []);
    expect(ds.meta.featureNames).toEqual(['signup.year', 'signup.month', 'signup.day', 'signup.day_of_week', 'spend']);
    // 2024-03-05 is a Tuesday (day_of_week 1: Monday is 0)
    expect(Array.from(transformRows(ds.meta, [{ signup: '2024-03-05', spend: 3 }]).x)).toEqual([2024, 3, 5, 1, 3]);
    const parts = await runStage(ws, { input: `${ws}/data.csv`, target: 'churn', features: ['signup'], columns: { signup: { type: 'date', parts: ['day_of_year', 'hour'] } }, normalize: 'none' });
    const meta = (await readDataset(parts.dir, [])).meta;
    expect(meta.featureNames).toEqual(['signup.day_of_year', 'signup.hour']);
    expect(Array.from(transformRows(meta, [{ signup: '2024-02-01T13:45:00Z' }]).x)).toEqual([32, 13]);
    expect(() => transformRows(meta, [{ signup: '2024-02-30' }])).toThrow(/row 1, column "signup": expected a date like 2024-03-05/);
  });

  it('an id listed in features is kept, with a warning', async () => {
    const ws = await withFiles({ 'data.csv': customers(40) });
    const { dir, lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'churn', features: ['ref', 'spend'] });
    expect(lines).toContain('warning: column "ref" looks like an identifier (consecutive integers in file order, a row number), used as a feature because it was named; a model can memorize rows by it');
    expect((await readDataset(dir, [])).meta.featureNames).toEqual(['ref', 'spend']);
  });
});
