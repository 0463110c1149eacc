import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictFile } from '../../src/app/models/batch-predict.js';
import { predictionRenderer } from '../../src/app/models/prediction-output.js';
import { toPredictions, type TensorPredictions } from '../../src/ml/predict.js';
import type { DatasetMeta } from '../../src/ml/dataset.js';
import { makeMeta } from '../ml/fixtures.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { tabularMeta, trainFixtureModel } from '../serve/fixtures.js';

// The CSV of predictions written straight from the model's typed arrays (renderTensor) against the
// general path through per-row Prediction objects (render of toPredictions): the same bytes.

const LABELS = ['plain', 'with, comma', 'say "hi"', 'naïve é 😀'];
const COLUMNS = ['f0', 'row', 'predicted', 'note'];
const ROWS: unknown[][] = [
  ['0.5', '1', 'x', 'has, comma'],
  ['-1', '', '', ''],
  ['2', '3', 'y', 'say "hi"'],
  ['0', '4', 'z', 'naïve é 😀'],
  ['7', '5', 'w', 'line\nbreak'],
];
/** Each row's text where it has one (a quote-free line of a comma-separated file). */
const TEXTS = ROWS.map((r) => (r.some((c) => /[",\n]/.test(String(c))) ? undefined : r.join(',')));

/** Numbers of every notation sevenDigits writes: exponents, ties, negatives, ≥ 1e7. */
const VALUES = Float32Array.from([0.1, -0.25, 4.333064e-10, 1.808211e-19, 12345678, -9999999.5, 1e-7, 0.99999996, 0, 1e-40]);

function classifier(n: number, k: number): TensorPredictions {
  const probabilities = new Float32Array(n * k);
  for (let i = 0; i < n * k; i++) probabilities[i] = VALUES[i % VALUES.length]!;
  return { n, classes: Int32Array.from({ length: n }, (_, i) => i % k), probabilities };
}

/** Both renderers over `batches` (row ranges), the header once; the fast one must render every batch itself. */
function both(p: TensorPredictions, labels: string[] | undefined, batches: Array<[number, number]>, texts?: Array<string | undefined>) {
  const general = predictionRenderer('csv', COLUMNS, labels);
  const fast = predictionRenderer('csv', COLUMNS, labels);
  const all = toPredictions(p, { labels, output: { kind: p.values ? 'linear' : 'softmax', units: 1 } });
  let expected = '';
  let actual = '';
  for (const [from, to] of batches) {
    const sourceRows = Array.from({ length: to - from }, (_, i) => 10 * (from + i) + 1);
    const rows = ROWS.slice(from, to);
    expected += general.render(rows, all.slice(from, to), sourceRows, texts?.slice(from, to));
    const bytes = fast.renderTensor(rows, slice(p, from, to), sourceRows, texts?.slice(from, to));
    expect(bytes, 'renderTensor renders a one-target model itself').toBeDefined();
    actual += Buffer.from(bytes!).toString('utf8');
  }
  expected += general.end();
  actual += fast.end();
  expect(fast.header()).toEqual(general.header());
  return { expected, actual };
}

function slice(p: TensorPredictions, from: number, to: number): TensorPredictions {
  const k = p.probabilities ? p.probabilities.length / p.n : 0;
  return p.values
    ? { n: to - from, values: p.values.slice(from, to) }
    : { n: to - from, classes: p.classes!.slice(from, to), probabilities: p.probabilities!.slice(from * k, to * k) };
}

describe('renderTensor', () => {
  const batches: Array<[number, number]> = [[0, 2], [2, 2], [2, 5]];

  it('writes a multiclass model with labels holding commas, quotes and non-ASCII as render does, with and without input texts', () => {
    for (const texts of [undefined, TEXTS]) {
      const { expected, actual } = both(classifier(ROWS.length, LABELS.length), LABELS, batches, texts);
      expect(actual).toBe(expected);
      expect(actual).toContain('"with, comma"');
      expect(actual.split('\n')[0]).toBe('_row,f0,row,predicted,note,_predicted,p_plain,"p_with, comma","p_say ""hi""",p_naïve é 😀');
    }
  });

  it('writes a binary model, a model without labels and a regression model as render does', () => {
    const binary = both(classifier(ROWS.length, 2), ['no', 'yes'], batches, TEXTS);
    expect(binary.actual).toBe(binary.expected);
    const unlabelled = both(classifier(ROWS.length, 3), undefined, batches, TEXTS);
    expect(unlabelled.actual).toBe(unlabelled.expected);
    const values = Float32Array.from(ROWS, (_, i) => VALUES[i * 2]!);
    const regression = both({ n: ROWS.length, values }, undefined, batches, TEXTS);
    expect(regression.actual).toBe(regression.expected);
    expect(regression.actual).toContain('4.333064e-10');
  });

  it('leaves labels that do not name each class column, and several targets, to the general path', () => {
    const renderer = predictionRenderer('csv', COLUMNS, ['a', 'b']);
    expect(renderer.renderTensor(ROWS, classifier(ROWS.length, 3), [1, 2, 3, 4, 5])).toBeUndefined();
    expect(renderer.renderTensor(ROWS, { n: 5, outputs: [] }, [1, 2, 3, 4, 5])).toBeUndefined();
    expect(renderer.end(), 'nothing was rendered: the header is still to come').toBe('_row,f0,row,predicted,note,_predicted\n');
  });
});

describe('predictFile writes the same files by either path', () => {
  let ws: Workspace;
  const models: Record<string, string> = {};
  const withFill = (meta: DatasetMeta) => ({ ...meta, features: meta.features.map((f) => ({ ...f, stats: { mean: 0, std: 0.5, min: -1, max: 1 }, ...(f.name === 'f3' ? { fill: 0 } : {}) })) });

  beforeAll(async () => {
    const multiclass = tabularMeta();
    multiclass.labels = ['a,b', 'say "hi"', 'naïve'];
    models.multiclass = await trainFixtureModel(multiclass);
    models.binary = await trainFixtureModel(withFill(makeMeta({ task: 'binary', features: 4 })));
    models.regression = await trainFixtureModel(withFill(makeMeta({ task: 'regression', features: 4 })));
    const lines = ['f0,f1,f2,f3,note'];
    for (let i = 0; i < 300; i++) lines.push([((i % 17) / 8 - 1).toFixed(2), ((i % 5) / 2 - 1).toFixed(1), String((i % 3) - 1), i % 7 === 0 ? '' : (i / 300).toFixed(3), i % 11 === 0 ? 'é ü 😀' : ''].join(','));
    const plain = `${lines.join('\n')}\n`;
    const quoted = plain.replace('\n0.00,', '\n"0.00",').replace(/,é ü 😀\n/, ',"a, ""quoted"" note"\n');
    const bad = `${lines.map((l, i) => (i % 9 === 5 ? l.replace(/^[^,]*/, 'oops') : l)).join('\n')}\n`;
    ws = await makeWorkspace({ 'plain.csv': plain, 'quoted.csv': quoted, 'crlf.csv': plain.replaceAll('\n', '\r\n'), 'bad.csv': bad });
  });
  afterAll(() => ws.cleanup());

  it('csv and Parquet, plain, quoted, CRLF and skipped rows, for a multiclass, a binary and a regression model', async () => {
    for (const [kind, modelDir] of Object.entries(models)) {
      for (const input of ['plain.csv', 'quoted.csv', 'crlf.csv', 'bad.csv']) {
        for (const ext of ['csv', 'parquet']) {
          const run = async (name: string, keepPredictions: boolean) => {
            const output = ws.path(`${kind}-${input}-${name}.${ext}`);
            const r = await predictFile({ modelDir, input: ws.path(input), output, backend: 'cpu', chunkSize: 64, onError: 'skip', keepPredictions });
            return { bytes: await readFile(output), skipped: r.skipped, rows: r.rows };
          };
          const fast = await run('fast', false);
          const general = await run('general', true);
          const where = `${kind} ${input} ${ext}`;
          expect(fast.bytes.equals(general.bytes), where).toBe(true);
          expect(fast.skipped, where).toEqual(general.skipped);
          expect(fast.rows, where).toBe(input === 'bad.csv' ? 300 - fast.skipped.length : 300);
          if (input === 'bad.csv') expect(fast.skipped.length, where).toBeGreaterThan(0);
        }
      }
    }
  }, 120_000);
});
