import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTf } from '../../src/ml/backend.js';
import { buildModel, createOptimizer, resolveModel } from '../../src/ml/build-model.js';
import { readDataset, readMeta } from '../../src/ml/dataset.js';
import { openStreamedSplit } from '../../src/ml/split-reader.js';
import { fitModel, takeRows } from '../../src/ml/train-loop.js';
import { streamThreshold } from '../../src/stages/train-data.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { makeMeta, stageContext, writeFixtureDataset } from './fixtures.js';

async function trainWith(config: Record<string, unknown>, streamMb: string | undefined) {
  if (streamMb === undefined) delete process.env.MLPIPE_TRAIN_STREAM_MB;
  else process.env.MLPIPE_TRAIN_STREAM_MB = streamMb;
  const rec = await stageContext<TrainConfig>(train, config);
  const result = await train.run(rec.ctx);
  const dir = rec.ctx.outputs.model!;
  return { logs: rec.logs, metrics: result!.metrics, weights: await readFile(join(dir, 'weights.bin')) };
}

afterEach(() => {
  delete process.env.MLPIPE_TRAIN_STREAM_MB;
});

describe('training on a split streamed from its file', () => {
  it('MLPIPE_TRAIN_STREAM_MB sets the threshold in megabytes (0 streams all; default 256; junk is the default)', () => {
    expect(streamThreshold({})).toBe(256 * 1048576);
    expect(streamThreshold({ MLPIPE_TRAIN_STREAM_MB: '0' })).toBe(0);
    expect(streamThreshold({ MLPIPE_TRAIN_STREAM_MB: '1.5' })).toBe(1.5 * 1048576);
    expect(streamThreshold({ MLPIPE_TRAIN_STREAM_MB: 'lots' })).toBe(256 * 1048576);
  });

  it('gives the same metrics and byte-identical weights as in memory (validation split of the dataset, extra metrics)', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'multiclass', features: 5 }), { train: 90, validation: 30 });
    const config = { data, model: { preset: 'mlp', hidden_units: [8] }, epochs: 3, batch_size: 16, seed: 5, metrics: ['f1', 'precision'] };
    const memory = await trainWith(config, undefined);
    const streamed = await trainWith(config, '0');
    expect(memory.logs.some((l) => l.includes('read from its file a batch at a time'))).toBe(false);
    expect(streamed.logs).toContain('data: the train split is read from its file a batch at a time (its x is over MLPIPE_TRAIN_STREAM_MB, 0 MB)');
    expect(streamed.metrics).toEqual(memory.metrics);
    expect(streamed.weights.equals(memory.weights)).toBe(true);
  });

  it('gives the same result with validation_split held out of a streamed train split (regression; the held-out rows a view of the file)', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'regression', features: 3 }), { train: 70 });
    const config = { data, model: 'logistic_regression', epochs: 2, batch_size: 8, seed: 3, validation_split: 0.25, optimizer: { name: 'sgd', learning_rate: 0.05 } };
    const memory = await trainWith(config, undefined);
    const streamed = await trainWith(config, '0');
    expect(streamed.logs).toContain('data: 52 train rows, 18 validation rows (validation_split 0.25 of the train split)');
    expect(streamed.metrics).toEqual(memory.metrics);
    expect(streamed.weights.equals(memory.weights)).toBe(true);
  });

  it('holds at most a batch of x rows at a time: every row read per epoch, never more than a batch in one read', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 300, validation: 40 });
    const meta = await readMeta(data);
    const streamedTrain = openStreamedSplit(data, 'train', meta.splits.train!);
    const streamedVal = openStreamedSplit(data, 'validation', meta.splits.validation!);
    const memory = await readDataset(data, ['train']);
    expect(streamedTrain.y).toEqual(memory.splits.train!.y);
    const probe = openStreamedSplit(data, 'train', meta.splits.train!);
    expect(probe.rows.read([5, 2, 3, 4])).toEqual(takeRows(memory.splits.train!, [5, 2, 3, 4]).x);
    expect(probe.rows.subset([9, 7]).read([1, 0])).toEqual(takeRows(memory.splits.train!, [7, 9]).x);
    probe.rows.close();
    const { tf } = await loadTf('cpu');
    const resolved = resolveModel('logistic_regression', meta);
    const model = buildModel(tf, resolved, 1);
    const optimizer = createOptimizer(tf, { name: 'sgd', learning_rate: 0.1 });
    try {
      await fitModel(tf, model, resolved, streamedTrain, streamedVal, { epochs: 2, batchSize: 25, seed: 1, optimizer }, () => undefined);
    } finally {
      model.dispose();
      optimizer.optimizer.dispose();
      streamedTrain.rows.close();
      streamedVal.rows.close();
    }
    expect(streamedTrain.rows.rowsRead).toBe(2 * 300);
    expect(streamedTrain.rows.maxRowsRead).toBe(25);
    expect(streamedVal.rows.rowsRead).toBe(2 * 40);
    expect(streamedVal.rows.maxRowsRead).toBeLessThanOrEqual(256);
  });
});
