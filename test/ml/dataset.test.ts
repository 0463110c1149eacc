import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset, writeDataset, type Dataset } from '../../src/ml/dataset.js';
import { DatasetCorruptError } from '../../src/ml/errors.js';
import { tempDir } from './data-helpers.js';

function sample(): Dataset {
  return {
    meta: {
      schemaVersion: 1,
      task: 'binary',
      target: 'label',
      labels: ['0', '1'],
      inputKind: 'text',
      features: [],
      featureNames: [],
      text: { column: 'text', tokenizer: 'word', lowercase: true, vocab: ['<pad>', '<oov>', '中国'], maxLength: 3, padding: 'pre', truncating: 'post' },
      splits: {},
      classCounts: { '0': 1, '1': 2 },
      source: { file: 'data/x.csv', rows: 3, dropped: 0 },
    },
    splits: {
      train: { n: 2, x: new Int32Array([0, 2, 1, 2, 2, 2]), xShape: [2, 3], y: new Float32Array([0, 1]) },
      test: { n: 1, x: new Int32Array([0, 0, -7]), xShape: [1, 3], y: new Float32Array([1]) },
    },
  };
}

describe('dataset format', () => {
  it('round-trips tensors and writes byte-identical meta.json each time', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    await writeDataset(a, sample());
    await writeDataset(b, sample());
    const metaA = await readFile(join(a, 'meta.json'), 'utf8');
    expect(await readFile(join(b, 'meta.json'), 'utf8')).toBe(metaA);
    expect(await readFile(join(b, 'train.bin'))).toEqual(await readFile(join(a, 'train.bin')));
    expect(Object.keys(JSON.parse(metaA))).toEqual([...Object.keys(JSON.parse(metaA))].sort());

    const ds = await readDataset(a);
    expect(ds.meta.splits).toEqual({
      train: { n: 2, xShape: [2, 3], xDtype: 'int32', file: 'train.bin' },
      test: { n: 1, xShape: [1, 3], xDtype: 'int32', file: 'test.bin' },
    });
    expect(ds.splits.train).toEqual(sample().splits.train);
    expect(ds.splits.test).toEqual(sample().splits.test);
    expect((await readFile(join(a, 'train.bin'))).byteLength).toBe((6 + 2) * 4);
  });

  it('round-trips float32 features and reads only the splits asked for', async () => {
    const dir = await tempDir();
    const ds = sample();
    ds.meta.inputKind = 'tabular';
    ds.splits = { validation: { n: 2, x: new Float32Array([0.5, -1.25, 3e-8, 7]), xShape: [2, 2], y: new Float32Array([2.5, -1]) } };
    await writeDataset(dir, ds);
    const back = await readDataset(dir, ['validation']);
    expect(back.splits.validation).toEqual(ds.splits.validation);
    expect(back.splits.validation!.x).toBeInstanceOf(Float32Array);
    await expect(readDataset(dir, ['train'])).rejects.toThrow('it has no "train" split (it has: validation)');
  });

  it('a truncated split file is a DatasetCorruptError', async () => {
    const dir = await tempDir();
    await writeDataset(dir, sample());
    const file = join(dir, 'train.bin');
    await writeFile(file, (await readFile(file)).subarray(0, 10));
    await expect(readDataset(dir)).rejects.toThrow(DatasetCorruptError);
    await expect(readDataset(dir)).rejects.toThrow('train.bin holds 10 bytes, expected 32 for shape [2, 3]');
  });
});
