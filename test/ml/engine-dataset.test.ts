import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import { readDataset } from '../../src/ml/dataset.js';
import { openSqlEngine, sqlString } from '../../src/ml/sql-engine.js';
import { runStage } from './preprocess-helpers.js';
import { withFiles } from './data-helpers.js';

const ENGINE_TIMEOUT = 120_000;

/** A clean table: numbers (one with gaps), a category with gaps, an id column and a label, from a seed. */
function generated(rows: number, seed: number, label: 'class' | 'value' = 'class'): string {
  const random = seededRandom(seed);
  const lines = ['id,x1,x2,x3,color,size,label'];
  for (let i = 0; i < rows; i++) {
    const x1 = (random() * 200 - 100).toFixed(3);
    const x2 = random() < 0.1 ? 'NA' : (random() * 1e4).toFixed(1);
    const x3 = Math.floor(random() * 7);
    const color = random() < 0.05 ? '' : ['red', 'green', 'blue', 'teal'][Math.floor(random() * 4)];
    const size = ['S', 'M', 'L'][Math.floor(random() * 3)];
    const y = label === 'class' ? ['no', 'yes', 'maybe'][Number(x1) > 30 ? 1 : random() < 0.3 ? 2 : 0] : (Number(x1) * 0.5 + random()).toFixed(4);
    lines.push(`C${1000 + i},${x1},${x2},${x3},${color},${size},${y}`);
  }
  return `${lines.join('\n')}\n`;
}

async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name));
  return out;
}

/** Runs the stage through the engine and row by row; both datasets must be the same bytes. */
async function bothWays(ws: string, config: Record<string, unknown>) {
  const engine = await runStage(ws, { ...config, engine: 'always' });
  const rows = await runStage(ws, { ...config, engine: 'never' });
  expect(engine.lines).toContain('built in the engine (DuckDB)');
  expect(rows.lines).not.toContain('built in the engine (DuckDB)');
  const a = await filesOf(engine.dir);
  const b = await filesOf(rows.dir);
  expect(Object.keys(a)).toEqual(Object.keys(b));
  expect(a['meta.json']!.toString()).toBe(b['meta.json']!.toString());
  for (const name of Object.keys(a)) expect(a[name]!.equals(b[name]!), name).toBe(true);
  expect(engine.result).toEqual(rows.result);
  expect(engine.lines.filter((l) => !l.startsWith('built in'))).toEqual(rows.lines);
  return engine;
}

describe('preprocess in the engine (DuckDB)', () => {
  it('writes the same dataset bytes as the row-by-row builder: stratified classification, dropped rows, an id', async () => {
    const ws = await withFiles({ 'data.csv': generated(3000, 1) });
    const run = await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', id: 'id', split: { test: 0.2, validation: 0.1, seed: 7 } });
    expect(run.result).toMatchObject({ metrics: { classes: 3, rows_read: 3000 } });
  }, ENGINE_TIMEOUT);

  it('keeps the file order of a file big enough to be read on several threads (the missing markers are no join that reorders rows)', async () => {
    const ws = await withFiles({ 'data.csv': generated(300_000, 5) });
    await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', exclude: ['id'], split: { test: 0.2, validation: 0.1, seed: 3 } });
  }, ENGINE_TIMEOUT);

  it('keep: the same kept values both ways (a feature, a non-feature, the id; numbers canonical, missing as empty), one per row of each split', async () => {
    const ws = await withFiles({ 'data.csv': generated(3000, 3) });
    const run = await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', id: 'id', exclude: ['x3', 'x2'], keep: ['color', 'x3', 'x1', 'id', 'x2'], split: { test: 0.2, validation: 0.1, seed: 7 } });
    const ds = await readDataset(run.dir);
    expect(ds.meta.kept).toEqual(['color', 'x3', 'x1', 'id', 'x2']);
    expect(ds.meta.featureNames.some((n) => n.startsWith('x3'))).toBe(false);
    for (const split of Object.values(ds.splits)) {
      expect(Object.keys(split!.kept!).sort()).toEqual(['color', 'id', 'x1', 'x2', 'x3']);
      for (const values of Object.values(split!.kept!)) expect(values).toHaveLength(split!.n);
      expect(split!.kept!.id).toEqual(split!.ids);
    }
    const test = ds.splits.test!;
    expect(new Set(test.kept!.x3)).toEqual(new Set(['0', '1', '2', '3', '4', '5', '6']));
    expect(test.kept!.x2).toContain('');
    expect(test.kept!.color).not.toContain('');
    expect(test.kept!.x1.every((v) => String(Number(v)) === v)).toBe(true);
  }, ENGINE_TIMEOUT);

  it('the same bytes with fills (mean, median, mode, constant), ordinal and min-max settings, and a regression target', async () => {
    const ws = await withFiles({ 'data.csv': generated(2500, 2, 'value') });
    await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', exclude: ['id'], missing: 'mean', normalize: 'minmax', columns: { size: { encoding: 'ordinal' } } });
    await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', exclude: ['id'], missing: { fill: 'median' }, shuffle: false });
    await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', exclude: ['id'], missing: { fill: 'mode' } });
    await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label', features: ['x1', 'x2', 'color'], missing: { fill: 'constant', value: 0 } });
  }, ENGINE_TIMEOUT);

  it('leaves an id-like column out with the same warning, and steps aside for what the builder must do', async () => {
    const ws = await withFiles({ 'data.csv': generated(500, 3), 'dates.csv': 'when,x,label\n2024-01-01,1,a\n2024-01-02,2,b\n2024-01-03,3,a\n2024-01-04,4,b\n2024-01-05,5,a\n' });
    const run = await bothWays(ws, { input: join(ws, 'data.csv'), target: 'label' });
    expect(run.lines).toContain('warning: column "id" looks like an identifier (unique in every row (500 values)): left out of the features; list it in `features` or declare its type in `columns` to use it');
    const dates = await runStage(ws, { input: join(ws, 'dates.csv'), target: 'label', engine: 'always', split: { test: 0.2, validation: 0 } });
    expect(dates.lines.find((l) => l.startsWith('the engine stepped aside'))).toMatch(/^the engine stepped aside \(.+\): built row by row$/);
  }, ENGINE_TIMEOUT);

  it('reads a folder of CSVs named by a glob (`files`), in name order, as one table', async () => {
    const ws = await withFiles({});
    const [head, ...rows] = generated(900, 4).trim().split('\n');
    await mkdir(join(ws, 'parts'));
    await writeFile(join(ws, 'parts', 'part-2.csv'), `${head}\n${rows.slice(300).join('\n')}\n`);
    await writeFile(join(ws, 'parts', 'part-1.csv'), `${head}\n${rows.slice(0, 300).join('\n')}\n`);
    await writeFile(join(ws, 'parts', 'notes.csv'), 'not,part,of,it\n1,2,3,4\n');
    await writeFile(join(ws, 'whole.csv'), `${head}\n${rows.join('\n')}\n`);
    const run = await bothWays(ws, { input: join(ws, 'parts'), files: 'part-*.csv', target: 'label', exclude: ['id'] });
    expect(run.result).toMatchObject({ metrics: { rows_read: 900 } });
    const whole = await runStage(ws, { input: join(ws, 'whole.csv'), target: 'label', exclude: ['id'], engine: 'never' });
    for (const name of ['train.bin', 'validation.bin', 'test.bin']) expect((await readFile(join(run.dir, name))).equals(await readFile(join(whole.dir, name)))).toBe(true);
  }, ENGINE_TIMEOUT);

  it('reads a semicolon file with decimal commas in the engine, and steps aside for thousands separators it leaves to the builder', async () => {
    const random = seededRandom(5);
    const lines = ['weight;height;kind'];
    for (let i = 0; i < 200; i++) lines.push(`${(random() * 100).toFixed(2).replace('.', ',')};${Math.floor(random() * 200)};${random() < 0.5 ? 'a' : 'b'}`);
    const ws = await withFiles({ 'semi.csv': `${lines.join('\n')}\n`, 'grouped.csv': `${lines[0]}\n${lines.slice(1).map((l, i) => (i === 3 ? l.replace(/^[^;]+/, '1.234,5') : l)).join('\n')}\n` });
    const run = await bothWays(ws, { input: join(ws, 'semi.csv'), target: 'kind', decimal: ',' });
    expect(run.lines).toContain('csv delimiter ";" (sniffed)');
    const { meta } = await readDataset(run.dir);
    const weights = lines.slice(1).map((l) => Number(l.split(';')[0]!.replace(',', '.')));
    expect(meta.features[0]!.stats!.max).toBe(Math.max(...weights.filter((_, i) => i < 200)));
    const grouped = await runStage(ws, { input: join(ws, 'grouped.csv'), target: 'kind', decimal: ',', engine: 'always' });
    expect(grouped.lines.some((l) => l.startsWith('the engine stepped aside'))).toBe(true);
    expect((await readDataset(grouped.dir)).meta.features[0]!.stats!.max).toBe(1234.5);
  }, ENGINE_TIMEOUT);

  it('reads Parquet and JSONL in the engine: the same tensors as the CSV they hold', async () => {
    const ws = await withFiles({ 'data.csv': generated(1200, 6) });
    const engine = await openSqlEngine();
    try {
      await engine.run(`COPY (SELECT * FROM read_csv(${sqlString(join(ws, 'data.csv'))}, header = true, nullstr = ['NA', ''])) TO ${sqlString(join(ws, 'data.parquet'))} (FORMAT parquet)`);
      await engine.run(`COPY (SELECT * FROM read_csv(${sqlString(join(ws, 'data.csv'))}, header = true, nullstr = ['NA', ''])) TO ${sqlString(join(ws, 'data.jsonl'))} (FORMAT json)`);
    } finally {
      engine.close();
    }
    const config = { target: 'label', exclude: ['id'], missing: 'mean' };
    const csv = await runStage(ws, { ...config, input: join(ws, 'data.csv'), engine: 'never' });
    const parquet = await runStage(ws, { ...config, input: join(ws, 'data.parquet') });
    expect(parquet.lines).toContain('built in the engine (DuckDB)');
    const jsonl = await bothWays(ws, { ...config, input: join(ws, 'data.jsonl') });
    for (const name of ['train.bin', 'validation.bin', 'test.bin']) {
      expect((await readFile(join(parquet.dir, name))).equals(await readFile(join(csv.dir, name))), name).toBe(true);
      expect((await readFile(join(jsonl.dir, name))).equals(await readFile(join(csv.dir, name))), name).toBe(true);
    }
  }, ENGINE_TIMEOUT);

  it('reads a latin-1 file through the engine (file_encoding)', async () => {
    const text = 'city,temp,label\n' + Array.from({ length: 40 }, (_, i) => `${['Köln', 'Málaga', 'Zürich'][i % 3]},${i},${i % 2 ? 'warm' : 'cold'}`).join('\n') + '\n';
    const ws = await withFiles({ 'latin.csv': Buffer.from(text, 'latin1') });
    const run = await bothWays(ws, { input: join(ws, 'latin.csv'), target: 'label', file_encoding: 'latin-1' });
    expect((await readDataset(run.dir)).meta.features.find((f) => f.name === 'city')!.categories).toEqual(['Köln', 'Málaga', 'Zürich']);
  }, ENGINE_TIMEOUT);
});
