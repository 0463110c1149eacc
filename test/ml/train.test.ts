import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTf } from '../../src/ml/backend.js';
import { readModelMeta } from '../../src/ml/model-io.js';
import { predictRows } from '../../src/ml/predict.js';
import { TrainingDivergedError } from '../../src/ml/train-loop.js';
import { classWeights, epochLine, train, type TrainConfig } from '../../src/stages/train.js';
import { makeMeta, stageContext, writeFixtureDataset } from './fixtures.js';

async function runTrain(config: Record<string, unknown>, backend: 'cpu' | 'wasm' = 'cpu') {
  const rec = await stageContext<TrainConfig>(train, config, backend);
  const result = await train.run(rec.ctx);
  const dir = rec.ctx.outputs.model!;
  const files = async () => ({
    weights: await readFile(join(dir, 'weights.bin')),
    topology: await readFile(join(dir, 'model.json'), 'utf8'),
    meta: await readFile(join(dir, 'mlpipe.json'), 'utf8'),
  });
  return { ...rec, result: result!, dir, files };
}

describe('train stage', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`same seed on the same backend (${backend}) → byte-identical model files; another seed → other weights`, async () => {
      const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 48, validation: 16 });
      const config = { data, model: { preset: 'mlp', hidden_units: [8], dropout: 0.3 }, epochs: 3, batch_size: 8, seed: 7 };
      const a = await (await runTrain(config, backend)).files();
      const b = await (await runTrain(config, backend)).files();
      expect(b.weights.equals(a.weights)).toBe(true);
      expect(b.topology).toBe(a.topology);
      expect(b.meta).toBe(a.meta);
      const c = await (await runTrain({ ...config, seed: 8 }, backend)).files();
      expect(c.weights.equals(a.weights)).toBe(false);
    });
  }

  it('logs the backend, a progress line and metric points per epoch, and returns the final metrics', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 40, validation: 10 });
    const run = await runTrain({ data, model: 'logistic_regression', optimizer: { name: 'sgd', learning_rate: 0.5 }, epochs: 2, batch_size: 10 });
    expect(run.logs).toContain('backend: cpu (@tensorflow/tfjs-backend-cpu)');
    expect(run.progress).toHaveLength(2);
    expect(run.progress[1]).toMatch(/^epoch 2\/2 loss \d\.\d+ acc \d\.\d+ val_loss \d\.\d+ val_acc \d\.\d+$/);
    expect(run.metrics.map((m) => `${m.key}@${m.step}`)).toEqual([
      'loss@1', 'accuracy@1', 'val_loss@1', 'val_accuracy@1', 'lr@1', 'loss@2', 'accuracy@2', 'val_loss@2', 'val_accuracy@2', 'lr@2',
    ]);
    expect(run.result.backend).toBe('cpu');
    expect(Object.keys(run.result.metrics!).sort()).toEqual(['accuracy', 'best_epoch', 'epochs', 'loss', 'val_accuracy', 'val_loss']);
    expect(run.result.metrics!.loss).toBe(run.metrics[5]!.value);
    expect(run.result.metrics!.epochs).toBe(2);
    const meta = await readModelMeta(run.dir);
    expect(meta).toMatchObject({ schemaVersion: 1, task: 'binary', output: { kind: 'sigmoid', units: 1 }, labels: ['c0', 'c1'], backend: 'cpu', seed: 42 });
  });

  it('learns a separable tabular problem and holds out validation_split when the dataset has no validation split', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'multiclass', features: 3 }), { train: 200 });
    const run = await runTrain({ data, model: { preset: 'mlp', hidden_units: [16] }, optimizer: { name: 'adam', learning_rate: 0.03 }, epochs: 15, batch_size: 16, validation_split: 0.2 });
    expect(run.logs).toContain('data: 160 train rows, 40 validation rows (validation_split 0.2 of the train split)');
    expect(run.result.metrics!.accuracy).toBeGreaterThan(0.85);
  });

  it('learns with the text_classifier preset (embedding → fused lstm, in-place adam) on wasm; the saved model scores raw text', async () => {
    const meta = makeMeta({ task: 'binary', kind: 'text', vocab: 12, maxLength: 5 });
    const data = await writeFixtureDataset(meta, { train: 96, validation: 32 });
    const run = await runTrain({ data, model: { preset: 'text_classifier', embedding_dim: 4, units: 4 }, optimizer: { name: 'adam', learning_rate: 0.05 }, epochs: 6, batch_size: 16 }, 'wasm');
    expect(run.logs.some((l) => /^backend: wasm/.test(l))).toBe(true);
    expect(run.logs).toContain('model: embedding(12→4) → lstm(4) → dense(1, sigmoid); 197 parameters; loss binary_crossentropy');
    const losses = run.metrics.filter((m) => m.key === 'loss').map((m) => m.value);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]!);
    expect(run.result.metrics!.val_accuracy).toBeGreaterThan(0.9);
    const predictions = await predictRows(run.dir, [{ text: 'w5 w0 w3' }, { text: 'w5 w6' }], { backend: 'wasm' });
    expect(predictions).toHaveLength(2);
    for (const p of predictions) {
      expect(['c0', 'c1']).toContain(p.label);
      expect(p.probabilities!.c0! + p.probabilities!.c1!).toBeCloseTo(1, 5);
    }
  });

  it('early stopping restores the best epoch: the saved weights equal a run of that many epochs', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'regression', features: 3 }), { train: 32, validation: 8 });
    const base = { data, model: 'logistic_regression', batch_size: 8, optimizer: { name: 'sgd', learning_rate: 0.05 } };
    const stopped = await runTrain({ ...base, epochs: 10, early_stopping: { monitor: 'loss', patience: 1, min_delta: 1000 } });
    expect(stopped.result.metrics).toMatchObject({ epochs: 2, best_epoch: 1 });
    expect(stopped.logs).toContain('restored the weights of epoch 1 (best loss)');
    expect(Object.keys(stopped.result.metrics!)).toContain('val_mae');
    const oneEpoch = await runTrain({ ...base, epochs: 1 });
    expect((await stopped.files()).weights.equals((await oneEpoch.files()).weights)).toBe(true);
  });

  it('a diverging loss fails with the epoch and a hint to lower the learning rate', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'regression', features: 3 }), { train: 32 });
    const rec = await stageContext<TrainConfig>(train, { data, model: 'logistic_regression', optimizer: { name: 'sgd', learning_rate: 1e30 }, epochs: 3, batch_size: 8 });
    const error = await train.run(rec.ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toMatch(/loss became NaN or infinite in epoch 1 \(learning rate 1e\+30\)\n  hint: lower optimizer.learning_rate/);
  });

  it('an early-stopping monitor on validation metrics without validation data is an error', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 2 }), { train: 20 });
    const rec = await stageContext<TrainConfig>(train, { data, model: 'logistic_regression', validation_split: 0, early_stopping: { monitor: 'val_loss' } });
    await expect(train.run(rec.ctx)).rejects.toThrow('early_stopping.monitor "val_loss" is not computed here; available: loss, accuracy (val_* metrics need a validation split or validation_split > 0)');
  });

  it('leaves no tensors behind', async () => {
    const { tf } = await loadTf('cpu');
    const data = await writeFixtureDataset(makeMeta({ task: 'multiclass', features: 3 }), { train: 30, validation: 10 });
    await runTrain({ data, model: { preset: 'mlp', hidden_units: [4] }, epochs: 1 });
    const before = tf.memory().numTensors;
    await runTrain({ data, model: { preset: 'mlp', hidden_units: [4], dropout: 0.5 }, epochs: 3, class_weight: 'balanced', early_stopping: { patience: 1 } });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('class weights', () => {
  const meta = makeMeta({ task: 'multiclass', classes: 3 });
  it('balanced: n / (classes · count)', () => {
    expect(classWeights('balanced', Float32Array.from([0, 0, 0, 1, 2, 2]), meta)).toEqual([6 / 9, 2, 1]);
  });
  it('a map by label; missing labels weigh 1; unknown labels are an error', () => {
    expect(classWeights({ c2: 5 }, new Float32Array(3), meta)).toEqual([1, 1, 5]);
    expect(() => classWeights({ cat: 2 }, new Float32Array(3), meta)).toThrow(/unknown label\(s\) "cat"/);
    expect(() => classWeights('balanced', new Float32Array(3), makeMeta({ task: 'regression' }))).toThrow(/applies to classification/);
  });
});

describe('epochLine', () => {
  it('abbreviates accuracy and keeps three significant digits', () => {
    expect(epochLine({ epoch: 3, metrics: { loss: 0.41234, accuracy: 0.85, val_loss: 0.398, val_accuracy: 0.87 }, learningRate: 0.1, samplesPerSecond: 1 }, 10)).toBe(
      'epoch 3/10 loss 0.412 acc 0.850 val_loss 0.398 val_acc 0.870',
    );
  });
});
