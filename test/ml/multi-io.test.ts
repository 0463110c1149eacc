import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTf } from '../../src/ml/backend.js';
import { buildModel, resolveModel } from '../../src/ml/build-model.js';
import { readDataset } from '../../src/ml/dataset.js';
import { loadModel } from '../../src/ml/model-io.js';
import { predictRows } from '../../src/ml/predict.js';
import { evaluate, type EvaluateConfig } from '../../src/stages/evaluate.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { withFiles } from './data-helpers.js';
import { lcg, stageContext } from './fixtures.js';
import { runStage } from './preprocess-helpers.js';

/**
 * 240 rows: a text `note` and `title`, a numeric `x` and a categorical `tier`; three labels:
 * `a` follows the word "red" in the note, `b` follows x > 0, `c` (3 classes) follows the tier.
 */
function ticketsCsv(rows = 240): string {
  const r = lcg(5);
  const lines = ['note,title,x,tier,a,b,c'];
  for (let i = 0; i < rows; i++) {
    const red = r() < 0.5;
    const x = Number((r() * 4 - 2).toFixed(3));
    const tier = ['gold', 'silver', 'bronze'][i % 3]!;
    const note = `${red ? 'red' : 'blue'} ${['box', 'cup', 'pen'][Math.floor(r() * 3)]} ${r() < 0.5 ? 'big' : 'small'}`;
    lines.push(`${note},${['order', 'query'][i % 2]} item,${x},${tier},${red ? 'yes' : 'no'},${x > 0 ? 1 : 0},${tier}`);
  }
  return `${lines.join('\n')}\n`;
}

async function prepared(extra: Record<string, unknown> = {}) {
  const ws = await withFiles({ 't.csv': ticketsCsv() });
  return runStage(ws, { input: join(ws, 't.csv'), target: ['a', 'b', 'c'], text: { column: 'note', max_length: 4, vocab_size: 20 }, features: ['x', 'tier'], split: { test: 0.25, validation: 0.15, seed: 3 }, ...extra });
}

describe('multi-input and multi-target datasets', () => {
  it('text with tabular columns and three targets: input blocks, one y column per target, each target with its task and labels', async () => {
    const { dir, lines, result } = await prepared();
    const ds = await readDataset(dir);
    expect(ds.meta.inputKind).toBe('multi');
    expect(ds.meta.inputs!.map((b) => [b.name, b.kind, b.width])).toEqual([['features', 'tabular', 4], ['note', 'text', 4]]);
    expect(ds.meta.featureNames).toEqual(['x', 'tier=bronze', 'tier=gold', 'tier=silver']);
    expect(ds.meta.targets!.map((t) => [t.name, t.task, t.labels])).toEqual([['a', 'binary', ['no', 'yes']], ['b', 'binary', ['0', '1']], ['c', 'multiclass', ['bronze', 'gold', 'silver']]]);
    expect(ds.meta.labels).toBeUndefined();
    const trainSplit = ds.splits.train!;
    expect(trainSplit.xShape).toEqual([trainSplit.n, 8]);
    expect(trainSplit.y).toHaveLength(trainSplit.n * 3);
    expect(ds.meta.splits.train!.yWidth).toBe(3);
    expect(lines.some((l) => l.startsWith('targets a: binary, 2 classes'))).toBe(true);
    expect(result!.metrics).toMatchObject({ targets: 3, inputs: 8, vocab_size_note: expect.any(Number) });
  });

  it('several targets keep every label column out of the default features (the one-pipeline-per-label leak)', async () => {
    const ws = await withFiles({ 't.csv': ticketsCsv() });
    const { dir } = await runStage(ws, { input: join(ws, 't.csv'), target: ['a', 'b'], columns: { note: { type: 'ignore' }, title: { type: 'ignore' } } });
    const ds = await readDataset(dir, ['train']);
    expect(ds.meta.features.map((f) => f.name)).toEqual(['x', 'tier', 'c']);
  });

  it('two text columns get a vocabulary each; a target listed twice or among the features is refused', async () => {
    const ws = await withFiles({ 't.csv': ticketsCsv() });
    const { dir } = await runStage(ws, { input: join(ws, 't.csv'), target: 'a', text: [{ column: 'note', max_length: 3 }, { column: 'title', max_length: 2 }] });
    const ds = await readDataset(dir, ['train']);
    expect(ds.meta.inputs!.map((b) => [b.name, b.width, b.text!.vocab.includes('query')])).toEqual([['note', 3, false], ['title', 2, true]]);
    await expect(runStage(ws, { input: join(ws, 't.csv'), target: ['a', 'a'] })).rejects.toThrow('target lists "a" twice');
    await expect(runStage(ws, { input: join(ws, 't.csv'), target: ['a', 'b'], features: ['x', 'b'] })).rejects.toThrow('lists the target "b" among the features');
  });
});

describe('multi-input and multi-output models', () => {
  it('builds a functional model: one input per block, one output per target, with the shapes of each', async () => {
    const { dir } = await prepared();
    const ds = await readDataset(dir, ['train']);
    const resolved = resolveModel({ preset: 'mlp', hidden_units: [8] }, ds.meta);
    expect(resolved.inputs!.map((b) => [b.name, b.offset, b.width, b.dtype, b.layers.map((l) => l.type)])).toEqual([
      ['features', 0, 4, 'float32', []],
      ['note', 4, 4, 'int32', ['embedding', 'global_avg_pooling1d']],
    ]);
    expect(resolved.heads!.map((h) => [h.name, h.output.kind, h.output.units, h.loss])).toEqual([
      ['a', 'sigmoid', 1, 'binary_crossentropy'],
      ['b', 'sigmoid', 1, 'binary_crossentropy'],
      ['c', 'softmax', 3, 'sparse_categorical_crossentropy'],
    ]);
    const { tf } = await loadTf('cpu');
    const model = buildModel(tf, resolved, 1);
    try {
      expect(model.inputs.map((i) => [i.shape, i.dtype])).toEqual([[[null, 4], 'float32'], [[null, 4], 'int32']]);
      expect(model.outputs.map((o) => o.shape)).toEqual([[null, 1], [null, 1], [null, 3]]);
    } finally {
      model.dispose();
    }
    expect(() => resolveModel({ preset: 'mlp', inputs: { notes: { layers: [{ type: 'dense', units: 2 }] } } }, ds.meta)).toThrow('model.inputs.notes: the dataset has no input "notes"; its inputs are features, note');
    expect(() => resolveModel({ layers: [{ type: 'conv1d', filters: 2, kernel_size: 2 }] }, ds.meta)).toThrow("put it in an input's encoder");
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`trains on ${backend}, logs metrics per target, evaluates per target and averaged, and predicts raw rows per target`, async () => {
      const { dir } = await prepared();
      const rec = await stageContext<TrainConfig>(train, { data: dir, model: { inputs: { note: { layers: [{ type: 'embedding', output_dim: 4 }, { type: 'conv1d', filters: 4, kernel_size: 2, activation: 'tanh' }, { type: 'global_max_pooling1d' }] } }, layers: [{ type: 'dense', units: 8 }] }, optimizer: { name: 'adam', lr: 0.05 }, metrics: ['auc'], epochs: 12, batch_size: 16 }, backend);
      const result = await train.run(rec.ctx);
      expect(Object.keys(rec.progress.length ? result!.metrics! : {})).toEqual(expect.arrayContaining(['loss', 'a_accuracy', 'b_accuracy', 'c_accuracy', 'a_auc', 'c_auc', 'val_loss', 'val_a_accuracy', 'val_c_auc']));
      expect(rec.logs.some((l) => l.startsWith('model: [features | note: embedding(') && l.includes('→ concat → dense(8, relu) → [a: dense(1, sigmoid), b: dense(1, sigmoid), c: dense(3, softmax)]'))).toBe(true);
      expect(result!.metrics!.a_accuracy).toBeGreaterThan(0.9);
      expect(result!.metrics!.c_accuracy).toBeGreaterThan(0.9);

      const model = rec.ctx.outputs.model!;
      const ev = await stageContext<EvaluateConfig>(evaluate, { model, data: dir });
      const scored = await evaluate.run(ev.ctx);
      const m = scored!.metrics!;
      for (const t of ['a', 'b', 'c']) expect(m[`${t}_accuracy`]).toBeGreaterThan(0.8);
      expect(m.accuracy).toBeCloseTo((m.a_accuracy! + m.b_accuracy! + m.c_accuracy!) / 3, 10);
      expect(m.subset_accuracy).toBeLessThanOrEqual(Math.min(m.a_accuracy!, m.b_accuracy!, m.c_accuracy!));
      expect(m['c.confusion_matrix.0.0']).toBeGreaterThan(0);
      const csv = (await readFile(ev.ctx.outputs.predictions!, 'utf8')).split('\n');
      expect(csv[0]).toBe('row,source_row,a_actual,a_predicted,a_p_no,a_p_yes,b_actual,b_predicted,b_p_0,b_p_1,c_actual,c_predicted,c_p_bronze,c_p_gold,c_p_silver');
      const file = JSON.parse(await readFile(ev.ctx.outputs.metrics!, 'utf8'));
      expect(file).toMatchObject({ targets: ['a', 'b', 'c'], task: 'binary,binary,multiclass' });

      const [p1, p2] = await predictRows(model, [{ note: 'red cup big', x: 1.5, tier: 'gold' }, { note: 'blue pen small', x: -1.5, tier: 'bronze' }], { backend });
      expect(p1!.outputs!.a!.label).toBe('yes');
      expect(p2!.outputs!.a!.label).toBe('no');
      expect(p1!.outputs!.c!.label).toBe('gold');
      expect(Object.keys(p2!.outputs!.c!.probabilities!)).toEqual(['bronze', 'gold', 'silver']);
      await expect(predictRows(model, [{ x: 1, tier: 'gold' }], { backend })).rejects.toThrow('is missing');
    });
  }

  it('loss_weights weigh each target in the summed loss: weight 0 leaves that head untrained; unknown targets and one-target data are refused', async () => {
    const { dir } = await prepared();
    const spec = { data: dir, model: { preset: 'mlp' as const, hidden_units: [8] }, optimizer: { name: 'adam' as const, lr: 0.05 }, epochs: 4, batch_size: 16, seed: 7 };
    const rec = await stageContext<TrainConfig>(train, { ...spec, loss_weights: { b: 0, c: 2 } });
    const result = await train.run(rec.ctx);
    expect(rec.logs, rec.logs.join('\n')).toContain('loss weights: a 1.00, b 0.00, c 2.00');
    expect(result!.metrics!.c_accuracy).toBeGreaterThan(0.8);
    const { tf } = await loadTf('cpu');
    const ds = await readDataset(dir, ['train']);
    const fresh = buildModel(tf, resolveModel(spec.model, ds.meta), spec.seed);
    try {
      const kernel = (m: { getLayer(n: string): { getWeights(): { dataSync(): Float32Array }[] } }, layer: string) => Array.from(m.getLayer(layer).getWeights()[0]!.dataSync());
      const { model: saved } = await loadModel(tf, rec.ctx.outputs.model!);
      expect(kernel(saved, 'output_2')).toEqual(kernel(fresh, 'output_2'));
      expect(kernel(saved, 'output_1')).not.toEqual(kernel(fresh, 'output_1'));
      saved.dispose();
    } finally {
      fresh.dispose();
    }
    const bad = await stageContext<TrainConfig>(train, { ...spec, loss_weights: { bb: 1 } });
    await expect(train.run(bad.ctx)).rejects.toThrow('loss_weights names unknown target(s) "bb"');
    const none = await stageContext<TrainConfig>(train, { ...spec, loss_weights: { a: 0, b: 0, c: 0 } });
    await expect(train.run(none.ctx)).rejects.toThrow('every target weight 0');
    const ws = await withFiles({ 't.csv': ticketsCsv() });
    const single = await runStage(ws, { input: join(ws, 't.csv'), target: 'b', features: ['x'] });
    const one = await stageContext<TrainConfig>(train, { ...spec, data: single.dir, model: 'logistic_regression', loss_weights: { b: 1 } });
    await expect(train.run(one.ctx)).rejects.toThrow('loss_weights applies to a dataset with several targets');
  });

  it('regression targets are scaled one by one and predicted back in their units', async () => {
    const r = lcg(9);
    const lines = ['x,y1,y2'];
    for (let i = 0; i < 200; i++) {
      const x = r() * 2 - 1;
      lines.push(`${x.toFixed(4)},${(1000 * x + 5000).toFixed(2)},${(-0.01 * x).toFixed(5)}`);
    }
    const ws = await withFiles({ 'r.csv': `${lines.join('\n')}\n` });
    const { dir } = await runStage(ws, { input: join(ws, 'r.csv'), target: ['y1', 'y2'], split: { test: 0.2, validation: 0.1, seed: 1 } });
    const rec = await stageContext<TrainConfig>(train, { data: dir, model: 'logistic_regression', optimizer: { name: 'adam', lr: 0.05 }, epochs: 30, batch_size: 16 });
    await train.run(rec.ctx);
    expect(rec.logs.filter((l) => l.startsWith('target: y'))).toHaveLength(2);
    const ev = await stageContext<EvaluateConfig>(evaluate, { model: rec.ctx.outputs.model!, data: dir, metrics: ['r2', 'mae'] });
    const m = (await evaluate.run(ev.ctx))!.metrics!;
    expect(m.y1_r2).toBeGreaterThan(0.95);
    expect(m.y2_r2).toBeGreaterThan(0.95);
    expect(m.y1_mae).toBeLessThan(100);
    expect(m.r2).toBeCloseTo((m.y1_r2! + m.y2_r2!) / 2, 10);
    const [p] = await predictRows(rec.ctx.outputs.model!, [{ x: 0.5 }]);
    expect(p!.outputs!.y1!.value).toBeGreaterThan(5300);
    expect(p!.outputs!.y1!.value).toBeLessThan(5700);
  });
});
