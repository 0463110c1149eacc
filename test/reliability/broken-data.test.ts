import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 7.7: broken data gives a clear error naming the file, row and column, or a documented
// handling (`missing: drop` by default, or a fill); never NaN metrics. A diverging loss stops
// training with the epoch and a hint.

let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace();
});
afterAll(() => ws.cleanup());

const rows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i));
const good = (i: number) => `${(i * 0.37) % 5},${(i * 1.3) % 7},${i % 2 === 0 ? 'yes' : 'no'}`;
const HEADER = 'x,y,label';

const prepare = (extra = '') => `name: data
stages:
  prepare:
    uses: preprocess
    with: { input: data.csv, target: label, split: { test: 0.2, validation: 0, seed: 1 }${extra} }
`;

let n = 0;
async function runWith(csv: string | Buffer, spec = prepare()) {
  const dir = ws.path(`case-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'data.csv'), csv);
  writeFileSync(join(dir, 'pipeline.yaml'), spec);
  return runJson(['run', 'pipeline.yaml'], { cwd: dir });
}

function expectFiniteMetrics(summary: { metrics: Record<string, unknown>; stages: { metrics: Record<string, unknown> }[] }) {
  for (const value of [...Object.values(summary.metrics), ...summary.stages.flatMap((s) => Object.values(s.metrics))]) {
    expect(typeof value === 'number' && Number.isFinite(value), String(value)).toBe(true);
  }
}

describe('broken data', () => {
  it.each([
    ['text in a numeric column', [HEADER, ...rows(30, (i) => (i === 12 ? 'oops,1,yes' : good(i)))].join('\n'), /^data\.csv:14 \(row 13\), column "x": expected a number, got "oops"\n {2}hint: declare the column categorical/],
    ['a ragged row', [HEADER, ...rows(30, (i) => (i === 4 ? '1,2,yes,extra' : good(i)))].join('\n'), /^data\.csv:6 \(row 5\): has 4 fields, expected 3 like the header \(x, y, label\)/],
    ['an empty file', '', /^data\.csv: is empty/],
    ['a header without rows', `${HEADER}\n`, /^data\.csv: has a header but no data rows/],
    ['a label column with one class', [HEADER, ...rows(30, (i) => `${i},${i * 2},yes`)].join('\n'), /^data\.csv: target "label" has a single class \("yes"\) in 30 rows\n {2}hint: a classifier needs at least two classes/],
  ])('%s: exit 1 with an error naming the file (and row and column)', async (_, csv, message) => {
    const r = await runWith(csv);
    expect(r.code).toBe(1);
    const stage = r.json.stages[0];
    expect(stage.status).toBe('failed');
    expect(stage.error).toMatch(message);
    expectFiniteMetrics(r.json);
  });

  it('missing values: rows are dropped by default (counted in metrics); with missing: mean they are filled', async () => {
    const csv = [HEADER, ...rows(30, (i) => (i === 3 ? ',1,yes' : i === 7 ? '2,NA,no' : i === 9 ? '1,?,yes' : good(i)))].join('\n');
    const dropped = await runWith(csv);
    expect(dropped.code).toBe(0);
    expect(dropped.json.metrics).toMatchObject({ 'prepare.rows_read': 30, 'prepare.dropped': 3, 'prepare.rows': 27 });
    expectFiniteMetrics(dropped.json);
    const filled = await runWith(csv, prepare(', missing: mean'));
    expect(filled.code).toBe(0);
    expect(filled.json.metrics).toMatchObject({ 'prepare.dropped': 0, 'prepare.rows': 30 });
    expectFiniteMetrics(filled.json);
  });

  it('a row without a label is always dropped (a label cannot be filled); when no row is left, the error names the file and says why', async () => {
    const oneMissing = await runWith([HEADER, ...rows(30, (i) => (i === 5 ? '1,2,' : good(i)))].join('\n'), prepare(', missing: mean'));
    expect(oneMissing.code).toBe(0);
    expect(oneMissing.json.metrics).toMatchObject({ 'prepare.dropped': 1, 'prepare.rows': 29 });
    const allMissing = await runWith([HEADER, ...rows(5, (i) => `${i},,yes`)].join('\n'));
    expect(allMissing.code).toBe(1);
    expect(allMissing.json.stages[0].error).toMatch(/^data\.csv: has no usable rows: 5 read, 5 dropped for missing values\n {2}hint: fill missing values instead/);
  });

  it('a BOM and CRLF line ends are read like plain UTF-8 with LF', async () => {
    const lines = [HEADER, ...rows(30, good)];
    const plain = await runWith(lines.join('\n'));
    const windows = await runWith(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]));
    expect(windows.code).toBe(0);
    expect(windows.json.metrics).toEqual(plain.json.metrics);
    expect(windows.json.artifacts[0].digest).toBe(plain.json.artifacts[0].digest);
    expectFiniteMetrics(windows.json);
  });

  it('a loss that becomes NaN stops training with the epoch and a hint about the learning rate; no NaN is recorded', async () => {
    const iris = readFileSync(join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8').trim().split('\n');
    const csv = [iris[0], ...iris.slice(1).filter((_, i) => i % 3 === 0)].join('\n');
    const spec = `name: diverge
stages:
  prepare:
    uses: preprocess
    with: { input: data.csv, target: petal_width, columns: { species: { type: ignore } }, split: { test: 0.2, seed: 1 } }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: logistic_regression }
      optimizer: { name: sgd, learning_rate: 1e30 }
      epochs: 5
      seed: 1
`;
    const r = await runWith(csv, spec);
    expect(r.code).toBe(1);
    const train = r.json.stages.find((s: any) => s.name === 'train');
    expect(train.status).toBe('failed');
    expect(train.error).toMatch(/^training diverged: the loss became NaN or infinite in epoch \d+ \(learning rate 1e\+30\)\n {2}hint: lower optimizer\.learning_rate/);
    expectFiniteMetrics(r.json);
  });
});
