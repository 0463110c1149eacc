import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictFile } from '../../src/app/models/batch-predict.js';
import { renderPredictions } from '../../src/app/models/prediction-output.js';
import { loadPredictor } from '../../src/ml/predict.js';
import { readTable } from '../../src/ml/read-table.js';
import { openSqlEngine, sqlString } from '../../src/ml/sql-engine.js';
import { readTableBatches } from '../../src/ml/table-batches.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { tabularMeta, trainFixtureModel } from '../serve/fixtures.js';

const ROWS = 10_000;
let model: string;
let ws: Workspace;

/** 10,000 rows of f0..f3; rows 250 and 7,777 hold a value that is not a number. */
function csvRows(): string {
  const lines = ['f0,f1,f2,f3'];
  for (let i = 1; i <= ROWS; i++) {
    const v = (k: number) => (((i * (k + 3)) % 97) / 48 - 1).toFixed(3);
    lines.push([v(0), i === 250 || i === 7777 ? 'oops' : v(1), v(2), i % 10 === 0 ? '' : v(3)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  model = await trainFixtureModel(tabularMeta());
  const csv = csvRows();
  const good = csv.replaceAll('oops', '0.5');
  const jsonl = good.trim().split('\n').slice(1).map((l, i) => {
    const [f0, f1, f2, f3] = l.split(',').map((c) => (c === '' ? undefined : Number(c)));
    return JSON.stringify(i === ROWS - 1 ? { f0, f1, f2, f3, late: 'x' } : { f0, f1, f2, f3 });
  });
  ws = await makeWorkspace({ 'big.csv': csv, 'good.csv': good, 'big.jsonl': `${jsonl.join('\n')}\n` });
  const engine = await openSqlEngine();
  try {
    await engine.run(`COPY (SELECT * FROM read_csv(${sqlString(ws.path('good.csv'))}, header = true, all_varchar = true)) TO ${sqlString(ws.path('big.parquet'))} (FORMAT parquet)`);
  } finally {
    engine.close();
  }
});
afterAll(() => ws.cleanup());

describe('readTableBatches', () => {
  it('hands out a csv, a jsonl and a Parquet file in batches with the rows, lines and columns readTable gives', async () => {
    for (const name of ['good.csv', 'big.jsonl', 'big.parquet']) {
      const whole = await readTable(ws.path(name));
      const sizes: number[] = [];
      const offsets: number[] = [];
      const rows: unknown[][] = [];
      const lines: number[] = [];
      for await (const batch of readTableBatches(ws.path(name), { batchSize: 100 })) {
        sizes.push(batch.rows.length);
        offsets.push(batch.offset);
        expect(batch.columns, name).toEqual(whole.columns);
        rows.push(...batch.rows);
        lines.push(...batch.lines);
      }
      expect(sizes, name).toEqual(Array.from({ length: ROWS / 100 }, () => 100));
      expect(offsets, name).toEqual(Array.from({ length: ROWS / 100 }, (_, i) => i * 100));
      expect(rows, name).toEqual(whole.rows);
      expect(lines, name).toEqual(whole.lines);
    }
  });

  it('reports an empty file and a header without rows as readTable does', async () => {
    await writeFile(ws.path('header.csv'), 'f0,f1\n');
    await writeFile(ws.path('empty.jsonl'), '\n');
    const drain = async (path: string) => {
      for await (const _ of readTableBatches(path, { displayName: path.split('/').pop() })) void _;
    };
    await expect(drain(ws.path('header.csv'))).rejects.toThrow('header.csv: has a header but no data rows');
    await expect(drain(ws.path('empty.jsonl'))).rejects.toThrow('empty.jsonl: is empty');
  });
});

describe('streaming predict', () => {
  it('batches of 100 over 10,000 rows write, piece by piece, the same bytes as scoring the whole table at once', async () => {
    const table = await readTable(ws.path('good.csv'));
    const predictor = await loadPredictor(model, { backend: 'cpu' });
    const objects = table.rows.map((r) => Object.fromEntries(table.columns.map((c, j) => [c, r[j]])));
    const expected = renderPredictions('csv', table.columns, table.rows, predictor.predict(objects), predictor.meta.labels);
    predictor.dispose();

    const pieces: string[] = [];
    const streamed = await predictFile({ modelDir: model, input: ws.path('good.csv'), backend: 'cpu', chunkSize: 100, write: (t) => void pieces.push(t) });
    expect(streamed).toMatchObject({ rows: ROWS, text: null, output: null, predictions: [] });
    expect(pieces).toHaveLength(ROWS / 100);
    expect(pieces.join('')).toBe(expected);

    const out = ws.path('one-batch.csv');
    await predictFile({ modelDir: model, input: ws.path('good.csv'), backend: 'cpu', chunkSize: ROWS * 2, output: out });
    expect(await readFile(out, 'utf8')).toBe(expected);
    const rowColumn = expected.trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    expect(rowColumn).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  });

  it('jsonl and Parquet inputs stream to the same predictions as one batch; a key seen only in the last row is a column of every row', async () => {
    for (const name of ['big.jsonl', 'big.parquet']) {
      const small = await predictFile({ modelDir: model, input: ws.path(name), format: 'jsonl', backend: 'cpu', chunkSize: 100 });
      const whole = await predictFile({ modelDir: model, input: ws.path(name), format: 'jsonl', backend: 'cpu', chunkSize: ROWS });
      expect(small.text, name).toBe(whole.text);
      expect(small.rows, name).toBe(ROWS);
    }
    const first = JSON.parse((await predictFile({ modelDir: model, input: ws.path('big.jsonl'), format: 'jsonl', backend: 'cpu', chunkSize: 100 })).text!.split('\n')[0]!);
    expect(first).toMatchObject({ row: 1, late: null });
  });

  it('--on-error skip names bad rows in later batches by their row and line in the file, and keeps the order of the rest', async () => {
    const out = ws.path('skipped.csv');
    const result = await predictFile({ modelDir: model, input: ws.path('big.csv'), backend: 'cpu', chunkSize: 100, onError: 'skip', output: out });
    expect(result.skipped).toEqual([
      { row: 250, line: 251, column: 'f1', reason: 'expected a number, got "oops"' },
      { row: 7777, line: 7778, column: 'f1', reason: 'expected a number, got "oops"' },
    ]);
    expect(result.rows).toBe(ROWS - 2);
    const rowColumn = (await readFile(out, 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    expect(rowColumn).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1).filter((r) => r !== 250 && r !== 7777));
    await expect(predictFile({ modelDir: model, input: ws.path('big.csv'), backend: 'cpu', chunkSize: 100, output: ws.path('never.csv') })).rejects.toThrow(
      `${ws.path('big.csv')}:251 (row 250), column "f1": expected a number, got "oops"`,
    );
    await expect(readFile(ws.path('never.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('--output x.parquet streams into a Parquet file the engine reads back as the CSV output: same rows and cells, typed (row BIGINT, numbers DOUBLE, labels VARCHAR)', async () => {
    const csvOut = ws.path('p.csv');
    const parquetOut = ws.path('p.parquet');
    await predictFile({ modelDir: model, input: ws.path('good.csv'), backend: 'cpu', chunkSize: 100, output: csvOut });
    const result = await predictFile({ modelDir: model, input: ws.path('good.csv'), backend: 'cpu', chunkSize: 100, output: parquetOut });
    expect(result).toMatchObject({ rows: ROWS, format: 'parquet', output: parquetOut, text: null });
    expect((await readdir(dirname(parquetOut))).filter((f) => f.includes('tmp'))).toEqual([]);
    const csv = await readTable(csvOut);
    const engine = await openSqlEngine();
    try {
      const types = (await engine.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(parquetOut)})`)).rows.map(([name, type]) => `${String(name)} ${String(type)}`);
      expect(types).toEqual(['row BIGINT', 'f0 DOUBLE', 'f1 DOUBLE', 'f2 DOUBLE', 'f3 DOUBLE', 'predicted VARCHAR', 'p_c0 DOUBLE', 'p_c1 DOUBLE', 'p_c2 DOUBLE']);
      const parquet = await engine.rows(`SELECT * FROM read_parquet(${sqlString(parquetOut)})`);
      expect(parquet.columns).toEqual(csv.columns);
      expect(parquet.rows).toHaveLength(ROWS);
      const asCsvCell = (v: unknown, column: string) => (v === null ? '' : column === 'predicted' ? String(v) : Number(v));
      const csvCell = (v: unknown, column: string) => (v === '' ? '' : column === 'predicted' ? v : Number(v));
      expect(parquet.rows.map((r) => r.map((v, j) => asCsvCell(v, csv.columns[j]!)))).toEqual(csv.rows.map((r) => r.map((v, j) => csvCell(v, csv.columns[j]!))));
    } finally {
      engine.close();
    }
    await expect(predictFile({ modelDir: model, input: ws.path('good.csv'), backend: 'cpu', format: 'parquet' })).rejects.toThrow('Parquet predictions need a file');
  });
});
