import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/ml/dataset.js';
import { predictRows } from '../../src/ml/predict.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { tempDir, withFiles } from './data-helpers.js';
import { lcg, stageContext } from './fixtures.js';
import { runStage } from './preprocess-helpers.js';

/** A 6×6 grey image: a vertical bar (label v) or a horizontal bar (label h) at a random position, with noise. */
function bar(vertical: boolean, rand: () => number): Uint8Array {
  const px = new Uint8Array(36);
  const at = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) px[i * 6 + j] = ((vertical ? j : i) === at ? 220 : 0) + Math.floor(rand() * 30);
  return px;
}

describe('images and array columns (issue 13 item 2)', () => {
  it('decodes a column of PNG and JPEG paths, resizes them, and a small CNN learns them; predict takes decoded pixels', async () => {
    const dir = await tempDir();
    const rand = lcg(3);
    const lines = ['file,label'];
    for (let i = 0; i < 80; i++) {
      const vertical = i % 2 === 0;
      const name = `img${i}.${i % 5 === 0 ? 'jpg' : 'png'}`;
      const image = sharp(Buffer.from(bar(vertical, rand)), { raw: { width: 6, height: 6, channels: 1 } }).resize(12, 12, { kernel: 'nearest' });
      await (i % 5 === 0 ? image.jpeg({ quality: 95 }) : image.png()).toFile(join(dir, name));
      lines.push(`${name},${vertical ? 'v' : 'h'}`);
    }
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'images.csv'), lines.join('\n'));
    const prep = await runStage(dir, { input: join(dir, 'images.csv'), target: 'label', image: { column: 'file', width: 6, height: 6 }, split: { test: 0, validation: 0.25 } });
    expect(prep.lines).toContain('images: 80 from "file" decoded to 6×6×1 (fill)');
    const ds = await readDataset(prep.dir);
    expect(ds.meta).toMatchObject({ inputKind: 'image', image: { column: 'file', width: 6, height: 6, channels: 1, fit: 'fill' } });
    expect(ds.splits.train!.xShape).toEqual([60, 6, 6, 1]);
    expect(Math.max(...ds.splits.train!.x)).toBeLessThanOrEqual(1);
    const t = await stageContext<TrainConfig>(train, {
      data: prep.dir,
      model: { layers: [{ type: 'conv2d', filters: 4, kernel_size: 3, padding: 'same' }, { type: 'max_pooling2d' }, { type: 'flatten' }, { type: 'dense', units: 8 }] },
      optimizer: { name: 'adam', lr: 0.02 },
      epochs: 12,
      batch_size: 16,
    }, 'wasm');
    const result = await train.run(t.ctx);
    expect(t.logs).toContain('model: conv2d(4×3) → max_pooling2d(2) → flatten → dense(8, relu) → dense(1, sigmoid); 345 parameters; loss binary_crossentropy');
    expect(result!.metrics!.val_accuracy).toBeGreaterThan(0.9);
    const pixels = Array.from(bar(true, lcg(9)), (v) => v / 255);
    const [p] = await predictRows(t.ctx.outputs.model!, [{ file: pixels }], { backend: 'wasm' });
    expect(p!.label).toBe('v');
    const { predictFile } = await import('../../src/app/models/batch-predict.js');
    await writeFile(join(dir, 'new.csv'), 'file\nimg2.png\nimg1.png\nmissing.png\n');
    const scored = await predictFile({ modelDir: t.ctx.outputs.model!, input: join(dir, 'new.csv'), backend: 'wasm', onError: 'skip' });
    expect(scored.predictions.map((q) => q.label)).toEqual(['v', 'h']);
    expect(scored.skipped.map((r) => [r.row, r.column])).toEqual([[3, 'file']]);
  });

  it('a missing image file is an error naming the row and the file', async () => {
    const dir = await withFiles({ 'images.csv': 'file,label\nnope.png,a\n' });
    await expect(runStage(dir, { input: join(dir, 'images.csv'), target: 'label', image: { column: 'file', width: 4, height: 4 } })).rejects.toThrow(/images\.csv:2 \(row 1\), column "file": cannot read the image ".*nope\.png"/);
  });

  it('reads JSON arrays in jsonl as numeric array columns: one input per value, statistics over all values', async () => {
    const rand = lcg(4);
    const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify({ pixels: Array.from({ length: 4 }, () => Math.round(rand() * 16)), size: i % 3, label: i % 2 ? 'odd' : 'even' }));
    const ws = await withFiles({ 'digits.jsonl': rows.join('\n') });
    const { dir } = await runStage(ws, { input: join(ws, 'digits.jsonl'), target: 'label', normalize: 'minmax' });
    const ds = await readDataset(dir);
    expect(ds.meta.features.map((f) => [f.name, f.type])).toEqual([['pixels', 'array'], ['size', 'numeric']]);
    expect(ds.meta.featureNames).toEqual(['pixels[0]', 'pixels[1]', 'pixels[2]', 'pixels[3]', 'size']);
    const t = await stageContext<TrainConfig>(train, { data: dir, model: { layers: [{ type: 'dense', units: 4 }] }, epochs: 1 });
    await train.run(t.ctx);
    await expect(predictRows(t.ctx.outputs.model!, [{ pixels: [1, 2, 3], size: 1 }], { backend: 'cpu' })).rejects.toThrow('row 1, column "pixels": holds 3 numbers, expected 4 like the train rows');
  });
});
