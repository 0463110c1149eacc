import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
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
});
