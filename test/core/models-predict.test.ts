import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictFile } from '../../src/app/models/batch-predict.js';
import { loadPredictor } from '../../src/ml/predict.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { tabularMeta, textMeta, trainFixtureModel } from '../serve/fixtures.js';

let tabular: string;
let text: string;
let ws: Workspace;

const csv = 'f0,f1,f2,f3\n0.5,-0.25,0,0.1\n-0.9,0.8,0.3,\n0.1,0.2,0.3,0.4\n';
const jsonl = '{"f0":0.5,"f1":-0.25,"f2":0,"f3":0.1}\n{"f0":-0.9,"f1":0.8,"f2":0.3}\n';

beforeAll(async () => {
  [tabular, text] = await Promise.all([trainFixtureModel(tabularMeta()), trainFixtureModel(textMeta())]);
  ws = await makeWorkspace({
    'rows.csv': csv,
    'rows.jsonl': jsonl,
    'bad.csv': 'f0,f1,f2,f3\n0.5,-0.25,0,0.1\n0.1,oops,0.3,0.4\n',
    'missing.jsonl': '{"f0":1,"f1":2,"f2":3}\n\n{"f0":1,"f2":3}\n',
    'texts.csv': 'id,text\n1,w0 w3 w4\n2,"w5, w6"\n',
    'rows.txt': 'f0\n1\n',
  });
});
afterAll(() => ws.cleanup());

describe('predictFile', () => {
  it('scores a csv with the model\'s own preprocessing and returns the rows with predictions as csv', async () => {
    const result = await predictFile({ modelDir: tabular, input: ws.path('rows.csv'), backend: 'cpu' });
    const direct = await loadPredictor(tabular, { backend: 'cpu' });
    const expected = direct.predict([
      { f0: '0.5', f1: '-0.25', f2: '0', f3: '0.1' },
      { f0: '-0.9', f1: '0.8', f2: '0.3', f3: '' },
      { f0: '0.1', f1: '0.2', f2: '0.3', f3: '0.4' },
    ]);
    direct.dispose();
    expect(result).toMatchObject({ rows: 3, format: 'csv', output: null, backend: 'cpu' });
    expect(result.predictions).toEqual(expected);
    const lines = result.text!.trim().split('\n');
    expect(lines[0]).toBe('row,f0,f1,f2,f3,predicted,p_c0,p_c1,p_c2');
    expect(lines[2]).toBe(['2', '-0.9', '0.8', '0.3', '', expected[1]!.label, ...['c0', 'c1', 'c2'].map((l) => String(Number(expected[1]!.probabilities![l]!.toPrecision(7))))].join(','));
  });

  it('reads jsonl and writes the output file in the format its extension names', async () => {
    const out = ws.path('out.jsonl');
    const result = await predictFile({ modelDir: tabular, input: ws.path('rows.jsonl'), output: out, backend: 'cpu', keepPredictions: true });
    expect(result).toMatchObject({ rows: 2, format: 'jsonl', output: out, text: null });
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[1]).toEqual({ row: 2, f0: -0.9, f1: 0.8, f2: 0.3, f3: null, predicted: result.predictions[1]!.label, probabilities: result.predictions[1]!.probabilities });
    const asCsv = await predictFile({ modelDir: tabular, input: ws.path('rows.jsonl'), output: ws.path('out.csv'), backend: 'cpu' });
    expect(asCsv.format).toBe('csv');
    expect((await readFile(ws.path('out.csv'), 'utf8')).split('\n')[0]).toBe('row,f0,f1,f2,f3,predicted,p_c0,p_c1,p_c2');
  });

  it('scores texts with the training tokenizer and vocabulary', async () => {
    const result = await predictFile({ modelDir: text, input: ws.path('texts.csv'), format: 'jsonl', backend: 'cpu' });
    const direct = await loadPredictor(text, { backend: 'cpu' });
    expect(result.predictions).toEqual(direct.predict([{ text: 'w0 w3 w4' }, { text: 'w5, w6' }]));
    direct.dispose();
    expect(JSON.parse(result.text!.split('\n')[1]!)).toMatchObject({ row: 2, id: '2', text: 'w5, w6' });
  });

  it('names the file, line and column of a bad row, and writes nothing', async () => {
    await expect(predictFile({ modelDir: tabular, input: ws.path('bad.csv'), output: ws.path('never.csv'), backend: 'cpu' })).rejects.toThrow(
      `${ws.path('bad.csv')}:3 (row 2), column "f1": expected a number, got "oops"`,
    );
    await expect(predictFile({ modelDir: tabular, input: ws.path('missing.jsonl'), backend: 'cpu', chunkSize: 1 })).rejects.toThrow(
      `${ws.path('missing.jsonl')}:3 (row 2), column "f1": is missing`,
    );
    expect(existsSync(ws.path('never.csv'))).toBe(false);
    await expect(predictFile({ modelDir: tabular, input: ws.path('rows.txt'), backend: 'cpu' })).rejects.toThrow('cannot tell the format from the extension ".txt"');
    await expect(predictFile({ modelDir: tabular, input: ws.path('rows.csv'), output: ws.path('out.xlsx'), backend: 'cpu' })).rejects.toThrow(
      'cannot tell the output format from',
    );
    await writeFile(ws.path('empty.csv'), 'f0,f1\n');
    await expect(predictFile({ modelDir: tabular, input: ws.path('empty.csv'), backend: 'cpu' })).rejects.toMatchObject({ name: 'PredictInputError', exitCode: 2 });
  });

  it('--on-error skip leaves the bad rows out, reports each with its row, line and column, and scores the rest', async () => {
    const result = await predictFile({ modelDir: tabular, input: ws.path('bad.csv'), backend: 'cpu', onError: 'skip' });
    expect(result.skipped).toEqual([{ row: 2, line: 3, column: 'f1', reason: 'expected a number, got "oops"' }]);
    const lines = result.text!.trim().split('\n');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['1']);
    expect(result.rows).toBe(1);
    const chunked = await predictFile({ modelDir: tabular, input: ws.path('missing.jsonl'), backend: 'cpu', chunkSize: 1, onError: 'skip' });
    expect(chunked.skipped.map((r) => [r.row, r.column, r.reason])).toEqual([[2, 'f1', 'is missing']]);
  });

  it('--explain adds an explain.<feature> column per feature (csv) and an explain object (jsonl); a text model is refused', async () => {
    const result = await predictFile({ modelDir: tabular, input: ws.path('rows.csv'), backend: 'cpu', explain: true, keepPredictions: true });
    const lines = result.text!.trim().split('\n');
    expect(lines[0]).toBe('row,f0,f1,f2,f3,predicted,p_c0,p_c1,p_c2,explain.f0,explain.f1,explain.f2,explain.f3');
    expect(result.predictions).toHaveLength(3);
    const plain = await predictFile({ modelDir: tabular, input: ws.path('rows.csv'), backend: 'cpu', keepPredictions: true });
    result.predictions.forEach((p, i) => {
      expect(Object.keys(p.explain!)).toEqual(['f0', 'f1', 'f2', 'f3']);
      for (const v of Object.values(p.explain!)) expect(Number.isFinite(v)).toBe(true);
      expect({ label: p.label, probabilities: p.probabilities }).toEqual(plain.predictions[i]);
    });
    const jsonl = await predictFile({ modelDir: tabular, input: ws.path('rows.jsonl'), backend: 'cpu', explain: true });
    const first = JSON.parse(jsonl.text!.split('\n')[0]!);
    expect(Object.keys(first.explain)).toEqual(['f0', 'f1', 'f2', 'f3']);
    await expect(predictFile({ modelDir: text, input: ws.path('texts.csv'), backend: 'cpu', explain: true })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--explain does not support text-only models'),
    });
  });
});
