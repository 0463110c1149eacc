import { afterEach, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import { checkPlots, parsePlots, PlotFileError } from '../../src/stages/shell-plots.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { loadIn, runIn } from '../helpers/spec-run.js';

const loss = [
  { step: 1, value: 0.9 },
  { step: 2, value: 0.5 },
  { step: 3, value: 0.3 },
];
const valLoss = [
  { step: 1, value: 1 },
  { step: 2, value: 0.7 },
  { step: 3, value: 0.6 },
];

describe('plots files: parsing each format', () => {
  it('a JSON array of rows, with x and y', () => {
    const text = JSON.stringify([
      { epoch: 1, loss: 0.9, val_loss: 1, note: 'a' },
      { epoch: 2, loss: 0.5, val_loss: 0.7, note: 'b' },
      { epoch: 3, loss: 0.3, val_loss: 0.6, note: 'c' },
    ]);
    expect(parsePlots(text, { file: 'h.json', x: 'epoch', y: ['loss', 'val_loss'] })).toEqual({ loss, val_loss: valLoss });
  });

  it('a JSON object of arrays; without y every numeric column is a curve; without x the rows count from 0', () => {
    const text = '{"loss": [0.9, 0.5, 0.3], "names": ["a", "b", "c"]}';
    expect(parsePlots(text, { file: 'h.json' })).toEqual({ loss: loss.map((p, i) => ({ step: i, value: p.value })) });
  });

  it('a JSON object of arrays under a path, rows sorted by step', () => {
    const text = '{"history": {"epoch": [3, 1, 2], "loss": [0.3, 0.9, 0.5]}, "best": 2}';
    expect(parsePlots(text, { file: 'h.json', path: 'history', x: 'epoch' })).toEqual({ loss });
  });

  it('CSV and TSV with a header row', () => {
    const csv = 'epoch,loss,val_loss\n1,0.9,1\n2,0.5,0.7\n3,0.3,0.6\n';
    expect(parsePlots(csv, { file: 'h.csv', x: 'epoch' })).toEqual({ loss, val_loss: valLoss });
    const tsv = 'epoch\tloss\tval_loss\n1\t0.9\t1\n2\t0.5\t0.7\n3\t0.3\t0.6\n';
    expect(parsePlots(tsv, { file: 'h.TSV', x: 'epoch', y: ['val_loss'] })).toEqual({ val_loss: valLoss });
  });

  it('an empty cell or null is a gap in the curve, not a point', () => {
    expect(parsePlots('epoch,loss\n1,0.9\n2,\n3,0.3\n', { file: 'h.csv', x: 'epoch' })).toEqual({ loss: [loss[0], loss[2]] });
    expect(parsePlots('[{"loss": 1}, {"loss": null}]', { file: 'h.json' })).toEqual({ loss: [{ step: 0, value: 1 }] });
  });

  const problem = (text: string, spec: Parameters<typeof parsePlots>[1]) => {
    try {
      parsePlots(text, spec);
    } catch (err) {
      if (err instanceof PlotFileError) return { message: err.message, hint: err.hint };
      throw err;
    }
    throw new Error('parsed');
  };

  it('says which column is missing or not numeric, and what is there', () => {
    expect(problem('epoch,loss\n1,0.9\n', { file: 'h.csv', x: 'step' })).toEqual({ message: 'has no x column "step"', hint: 'its columns: epoch, loss' });
    expect(problem('epoch,loss\n1,0.9\n', { file: 'h.csv', y: ['acc'] })).toEqual({ message: 'has no y column "acc"', hint: 'its columns: epoch, loss' });
    expect(problem('epoch,loss\n1,0.9\n2,high\n', { file: 'h.csv', y: ['loss'] }).message).toBe('y column "loss" holds "high" in row 2, not a number');
    expect(problem('[{"epoch": 0.5, "loss": 1}]', { file: 'h.json', x: 'epoch' }).message).toBe('x column "epoch" holds 0.5 in row 1; steps must be whole numbers');
    expect(problem('{"history": {"loss": [1]}}', { file: 'h.json' })).toEqual({ message: 'the file holds no list of rows and no lists of values', hint: 'set path: history (the lists are under "history")' });
    expect(problem('{"history": {}}', { file: 'h.json', path: 'fit' })).toEqual({ message: 'has no "fit" (no key "fit")', hint: 'its keys: history' });
    expect(problem('{"loss": [1,', { file: 'h.json' }).message).toMatch(/^is not valid JSON/);
    expect(problem('names\na\n', { file: 'h.csv' }).message).toBe('has no numeric column to plot besides x');
  });

  it('load-time checks: the format by extension, y apart from x, each file and curve once', () => {
    expect(checkPlots(['h.json', { file: 'p.csv', x: 'epoch', y: ['acc'] }])).toEqual([]);
    expect(checkPlots(['h.txt']).map((i) => [i.path, i.message])).toEqual([[['plots', 0], 'expected a .json, .csv or .tsv plots file, got "h.txt"']]);
    expect(checkPlots([{ file: 'h.csv', x: 'epoch', y: ['loss', 'epoch'] }]).map((i) => [i.path, i.message])).toEqual([[['plots', 0, 'y', 1], 'expected y columns other than x, got "epoch" for both']]);
    expect(checkPlots([{ file: 'a.csv', y: 'loss' }, { file: 'b.csv', y: 'loss' }, './a.csv']).map((i) => i.message)).toEqual([
      'curve "loss" is already plotted from plots[0]',
      'plots file "./a.csv" is already declared at plots[0]',
    ]);
    expect(checkPlots([{ file: 'a.csv', path: 'h' }]).map((i) => i.message)).toEqual(['expected path only for a JSON plots file, got it for "a.csv"']);
  });
});

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

const load = (set: string[] = []) => loadIn(ws!, 'pipeline.yaml', set);
const run = (spec: PipelineSpec) => runIn(ws!, spec);
const runsDir = () => join(ws!.dir, 'runs');

const HISTORY = 'printf \'[{"epoch":1,"loss":%s},{"epoch":2,"loss":0.5}]\' ${params.first} > out/history.json';

describe('shell stages: plots', () => {
  it('logs the y columns as curves of the stage, caches the file and restores it with its run', async () => {
    const spec = `name: t\nparams:\n  first: 0.9\nstages:\n  fit:\n    run:\n      - mkdir -p out\n      - ${JSON.stringify(HISTORY)}\n    plots:\n      - { file: out/history.json, x: epoch, y: [loss] }\n`;
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    const one = await run(await load());
    expect(one.status).toBe('completed');
    const tracker = await openTracker(runsDir());
    try {
      const points = (await tracker.getMetrics(one.runId)).map((p) => [p.stage, p.key, p.step, p.value]);
      expect(points).toEqual([
        ['fit', 'loss', 1, 0.9],
        ['fit', 'loss', 2, 0.5],
      ]);
    } finally {
      await tracker.close();
    }
    await run(await load(['params.first=0.8']));
    const back = await run(await load());
    expect(back.stages[0]).toMatchObject({ cached: true, cachedFrom: one.runId });
    expect(JSON.parse(await readFile(ws.path('out/history.json'), 'utf8'))[0]).toEqual({ epoch: 1, loss: 0.9 });
  });

  it('fails the stage naming the file, the problem and the spec node of a bad declaration', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: t\nstages:\n  fit:\n    run: echo "epoch,loss" > h.csv\n    plots:\n      - h.csv\n      - { file: h2.csv, x: epoch }\n' });
    const missing = await run(await load());
    expect(missing.stages[0]).toMatchObject({ status: 'failed' });
    const where = `${join(ws.dir, 'pipeline.yaml')}:7:9`;
    expect(missing.stages[0]!.error).toMatch(/^plots file h.csv has no rows; expected one row per step; plots\[0\] at .*pipeline\.yaml:6:9$/);
    await rm(ws.path('h.csv'), { force: true });
    await writeFile(ws.path('pipeline.yaml'), 'name: t\nstages:\n  fit:\n    run: printf "epoch,loss\\n1,2\\n" > h.csv\n    plots:\n      - h.csv\n      - { file: h2.csv, x: epoch }\n');
    const second = await run(await load());
    expect(second.stages[0]!.error).toBe(`plots file h2.csv was not written by the command (write the file in the command, or fix its path in plots); plots[1] at ${where.replace(`${process.cwd()}/`, '')}`);
  });
});
