import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/ml/dataset.js';
import { readModelMeta } from '../../src/ml/model-io.js';
import { predictRows } from '../../src/ml/predict.js';
import { evaluate, type EvaluateConfig } from '../../src/stages/evaluate.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { withFiles } from './data-helpers.js';
import { lcg, stageContext } from './fixtures.js';
import { runStage } from './preprocess-helpers.js';

/** y = 1000 · (2a − b) + noise: a target in the thousands, as in diabetes × 1000. */
function largeTargetCsv(n: number): string {
  const rand = lcg(5);
  const lines = ['a,b,y'];
  for (let i = 0; i < n; i++) {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${(1000 * (2 * a - b) + 50 * (rand() - 0.5)).toFixed(2)}`);
  }
  return lines.join('\n');
}

async function trainAndEvaluate(ws: string, prepare: Record<string, unknown>) {
  const { dir } = await runStage(ws, { input: `${ws}/data.csv`, target: 'y', split: { test: 0.2, validation: 0.1 }, ...prepare });
  const t = await stageContext<TrainConfig>(train, { data: dir, model: 'logistic_regression', optimizer: { name: 'adam', learning_rate: 0.05 }, epochs: 8, batch_size: 16 });
  await train.run(t.ctx);
  const e = await stageContext<EvaluateConfig>(evaluate, { model: t.ctx.outputs.model!, data: dir });
  const result = await evaluate.run(e.ctx);
  return { dataset: dir, model: t.ctx.outputs.model!, logs: t.logs, metrics: result!.metrics!, predictions: await readFile(e.ctx.outputs.predictions!, 'utf8') };
}

describe('regression targets are scaled for training and unscaled at predict (issue 13 item 6)', () => {
  it('a target in the thousands is learned (R² > 0.95); metrics and predictions are in the target\'s units', async () => {
    const ws = await withFiles({ 'data.csv': largeTargetCsv(400) });
    const run = await trainAndEvaluate(ws, {});
    const ds = await readDataset(run.dataset, []);
    expect(ds.meta.targetScaling!.normalize).toBe('zscore');
    expect(ds.meta.targetScaling!.stats.std).toBeGreaterThan(500);
    expect(run.logs.some((l) => /^target: y scaled to \(y - .+\) \/ .+ for training \(zscore\)/.test(l))).toBe(true);
    expect(run.metrics.r2).toBeGreaterThan(0.95);
    expect(run.metrics.mae).toBeLessThan(150);
    const meta = await readModelMeta(run.model);
    expect(meta.targetScale!.scale).toBeCloseTo(ds.meta.targetScaling!.stats.std, 3);
    const [p] = await predictRows(run.model, [{ a: 0.5, b: -0.5 }], { backend: 'cpu' });
    expect(p!.value).toBeGreaterThan(1200);
    expect(p!.value).toBeLessThan(1800);
  });

  it('columns.<target>.normalize is honoured: none trains on the raw target', async () => {
    const ws = await withFiles({ 'data.csv': largeTargetCsv(120) });
    const { dir } = await runStage(ws, { input: `${ws}/data.csv`, target: 'y', columns: { y: { normalize: 'none' } } });
    expect((await readDataset(dir, [])).meta.targetScaling!.normalize).toBe('none');
    const minmax = await runStage(ws, { input: `${ws}/data.csv`, target: 'y', columns: { y: { normalize: 'minmax' } } });
    expect((await readDataset(minmax.dir, [])).meta.targetScaling!.normalize).toBe('minmax');
  });

  it('a column override that would do nothing is an error naming it', async () => {
    const ws = await withFiles({ 'data.csv': largeTargetCsv(20) });
    await expect(runStage(ws, { input: `${ws}/data.csv`, target: 'y', columns: { y: { encoding: 'ordinal' } } })).rejects.toThrow(/columns\.y\.encoding has no effect: "y" is the target/);
    await expect(runStage(ws, { input: `${ws}/data.csv`, target: 'y', features: ['a'], columns: { b: { normalize: 'none' } } })).rejects.toThrow(/columns\.b has no effect: "b" is not a model input/);
  });
});

describe('no silent choices about the task or the validation data (issue 13 item 7)', () => {
  it('a target of more than 10 distinct integers is regression with a warning naming the column', async () => {
    const ws = await withFiles({ 'data.csv': ['x,code', ...Array.from({ length: 60 }, (_, i) => `${(i * 7) % 60},${i % 12}`)].join('\n') });
    const { lines } = await runStage(ws, { input: `${ws}/data.csv`, target: 'code' });
    expect(lines).toContain('warning: target "code" holds 12 distinct integers: treated as regression (more than 10 values); set task: multiclass if they are class codes');
    const declared = await runStage(ws, { input: `${ws}/data.csv`, target: 'code', task: 'multiclass' });
    expect(declared.lines.some((l) => l.startsWith('warning:'))).toBe(false);
    expect((await readDataset(declared.dir, [])).meta.labels).toHaveLength(12);
  });

  it('validation_split with a dataset that has its own validation split is an error, not silently ignored', async () => {
    const ws = await withFiles({ 'data.csv': largeTargetCsv(60) });
    const { dir } = await runStage(ws, { input: `${ws}/data.csv`, target: 'y', split: { test: 0.2, validation: 0.2 } });
    const t = await stageContext<TrainConfig>(train, { data: dir, model: 'logistic_regression', epochs: 1, validation_split: 0.3 });
    await expect(train.run(t.ctx)).rejects.toThrow(/validation_split 0.3 cannot apply: the dataset already has a validation split \(12 rows\)/);
  });
});

describe('predictions can be joined back to the source rows (issue 13 item 10)', () => {
  it('evaluate writes source_row and the declared id column beside each prediction', async () => {
    const csv = ['cid,a,b,y', ...largeTargetCsv(50).split('\n').slice(1).map((l, i) => `K${(i * 31) % 97},${l}`)].join('\n');
    const ws = await withFiles({ 'data.csv': csv });
    const { dir } = await runStage(ws, { input: `${ws}/data.csv`, target: 'y', id: 'cid', split: { test: 0.2, validation: 0 } });
    const ds = await readDataset(dir);
    expect(ds.meta.features.map((f) => f.name)).toEqual(['a', 'b']);
    const t = await stageContext<TrainConfig>(train, { data: dir, model: 'logistic_regression', epochs: 1 });
    await train.run(t.ctx);
    const e = await stageContext<EvaluateConfig>(evaluate, { model: t.ctx.outputs.model!, data: dir });
    await evaluate.run(e.ctx);
    const lines = (await readFile(e.ctx.outputs.predictions!, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('row,source_row,cid,actual,predicted,error');
    expect(lines).toHaveLength(11);
    const source = csv.split('\n');
    for (const line of lines.slice(1)) {
      const [, sourceRow, id, actual] = line.split(',');
      const original = source[Number(sourceRow)]!.split(',');
      expect(id).toBe(original[0]);
      expect(Number(actual)).toBeCloseTo(Number(original[3]), 2);
    }
  });
});
