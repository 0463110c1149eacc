import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/ml/dataset.js';
import { accuracy } from '../../src/ml/metrics.js';
import { confusionCells, withoutConfusionCells } from '../../src/core/tracker/confusion-cells.js';
import { evaluate, predictionsCsv, type EvaluateConfig } from '../../src/stages/evaluate.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { makeMeta, stageContext, writeFixtureDataset } from './fixtures.js';

async function trained(meta: ReturnType<typeof makeMeta>, sizes: Parameters<typeof writeFixtureDataset>[1], model: unknown = 'logistic_regression') {
  const data = await writeFixtureDataset(meta, sizes);
  const rec = await stageContext<TrainConfig>(train, { data, model, optimizer: { name: 'adam', learning_rate: 0.05 }, epochs: 4, batch_size: 8 });
  await train.run(rec.ctx);
  return { data, model: rec.ctx.outputs.model! };
}

async function runEvaluate(config: Record<string, unknown>) {
  const rec = await stageContext<EvaluateConfig>(evaluate, config);
  const result = await evaluate.run(rec.ctx);
  const read = (name: string) => readFile(rec.ctx.outputs[name]!, 'utf8');
  return { ...rec, result: result!, metricsJson: await read('metrics'), predictions: await read('predictions'), confusion: await read('confusion_matrix') };
}

describe('evaluate stage', () => {
  it('binary: every classification metric, predictions and a confusion matrix that agree with each other', async () => {
    const meta = makeMeta({ task: 'binary', features: 4 });
    const { data, model } = await trained(meta, { train: 64, test: 30 });
    const run = await runEvaluate({ data, model });
    const m = withoutConfusionCells(run.result.metrics!);
    expect(Object.keys(m)).toEqual([
      'accuracy', 'auc', 'balanced_accuracy', 'f1', 'f1_macro', 'f1_weighted', 'log_loss', 'mcc', 'precision', 'precision_macro', 'precision_weighted', 'recall', 'recall_macro', 'recall_weighted',
    ]);
    const file = JSON.parse(run.metricsJson);
    expect(file).toMatchObject({ schemaVersion: 1, task: 'binary', split: 'test', n: 30 });
    expect(file.metrics).toEqual(m);
    const rows = run.predictions.trim().split('\n');
    expect(rows[0]).toBe('row,actual,predicted,p_c0,p_c1');
    expect(rows).toHaveLength(31);
    const actual = rows.slice(1).map((r) => r.split(',')[1]);
    const predicted = rows.slice(1).map((r) => r.split(',')[2]);
    expect(accuracy(actual.map((a) => (a === 'c1' ? 1 : 0)), predicted.map((p) => (p === 'c1' ? 1 : 0)))).toBe(m.accuracy);
    const cm = JSON.parse(run.confusion);
    expect(cm.labels).toEqual(['c0', 'c1']);
    expect(cm.matrix[0][0] + cm.matrix[1][1]).toBe(Math.round(m.accuracy! * 30));
    expect(cm.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(30);
    // The matrix is also run data: one metric per cell, so the tracker keeps it without the file.
    expect(run.result.metrics).toMatchObject(confusionCells(cm.matrix));
    expect(Object.keys(run.result.metrics!).filter((k) => k.startsWith('confusion_matrix.'))).toHaveLength(4);
    expect(run.logs).toContain(`accuracy ${Number(m.accuracy!.toPrecision(7))}`);
    expect(run.metricsJson).toBe(`${stableStringify(file)}\n`);
  });

  it('writes byte-identical files when run twice', async () => {
    const meta = makeMeta({ task: 'multiclass', features: 3 });
    const { data, model } = await trained(meta, { train: 60, test: 20 }, { preset: 'mlp', hidden_units: [6] });
    const a = await runEvaluate({ data, model });
    const b = await runEvaluate({ data, model });
    expect([b.metricsJson, b.predictions, b.confusion]).toEqual([a.metricsJson, a.predictions, a.confusion]);
    expect(a.result.metrics!.f1).toBe(a.result.metrics!.f1_macro);
  });

  it('falls back to validation then train when the split is missing, and filters metrics by family', async () => {
    const meta = makeMeta({ task: 'multiclass', features: 3 });
    const { data, model } = await trained(meta, { train: 40, validation: 12 });
    const run = await runEvaluate({ data, model, metrics: ['accuracy', 'f1'] });
    expect(run.logs[0]).toBe('split: the dataset has no test split; evaluating on validation');
    expect(Object.keys(withoutConfusionCells(run.result.metrics!))).toEqual(['accuracy', 'f1', 'f1_macro', 'f1_weighted']);
    const onTrain = await runEvaluate({ data, model, split: 'train' });
    expect(JSON.parse(onTrain.metricsJson).n).toBe(40);
    await expect(runEvaluate({ data, model, metrics: ['r2'] })).rejects.toThrow(/r2 do not apply to a multiclass task/);
  });

  it('regression: mse, rmse, mae, r2, and an empty confusion matrix file', async () => {
    const meta = makeMeta({ task: 'regression', features: 3 });
    const { data, model } = await trained(meta, { train: 80, test: 20 });
    const run = await runEvaluate({ data, model });
    expect(Object.keys(run.result.metrics!)).toEqual(['mae', 'mse', 'r2', 'rmse']);
    expect(run.result.metrics!.rmse).toBeCloseTo(Math.sqrt(run.result.metrics!.mse!), 12);
    expect(JSON.parse(run.confusion)).toEqual({ schemaVersion: 1, labels: [], matrix: [] });
    expect(run.predictions.split('\n')[0]).toBe('row,actual,predicted,error');
  });

  it('refuses a dataset whose rows do not fit the model', async () => {
    const { model } = await trained(makeMeta({ task: 'binary', features: 4 }), { train: 16 });
    const other = await writeFixtureDataset(makeMeta({ task: 'binary', features: 3 }), { test: 8 });
    await expect(runEvaluate({ data: other, model })).rejects.toThrow(/the model in .+ takes input of shape \[4\] but the test split has rows of shape \[3\]/);
  });
});

describe('predictionsCsv', () => {
  it('quotes labels with commas or quotes', () => {
    const csv = predictionsCsv({ n: 1, classes: Int32Array.from([1]), probabilities: Float32Array.from([0.25, 0.75]) }, Float32Array.from([0]), ['a,b', 'say "hi"']);
    expect(csv).toBe('row,actual,predicted,"p_a,b","p_say ""hi"""\n0,"a,b","say ""hi""",0.25,0.75\n');
  });
});
