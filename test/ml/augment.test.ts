import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/ml/dataset.js';
import { augmentImage, augmentTokens } from '../../src/ml/augment/perturb.js';
import { seededRandom } from '../../src/seeded-random.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from './data-helpers.js';
import { runStage } from './preprocess-helpers.js';

const cars = join(repoRoot, 'pipelines', 'fuel-economy', 'data', 'cars.json');
const sms = join(repoRoot, 'pipelines', 'sms-spam', 'data', 'sms.tsv');
const digits = join(repoRoot, 'pipelines', 'digits', 'data', 'digits.jsonl');

/** Origin (USA 254, Japan 79, Europe 73) from the numeric columns of the fuel-economy cars: a real imbalanced multiclass table. */
async function origin(augment?: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const ws = await tempDir();
  await copyFile(cars, join(ws, 'cars.json'));
  return runStage(ws, {
    input: join(ws, 'cars.json'),
    target: 'Origin',
    features: ['Miles_per_Gallon', 'Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Year'],
    columns: { Year: { type: 'categorical' } },
    missing: 'median',
    split: { test: 0.25, validation: 0.15, seed: 42 },
    ...(augment ? { augment } : {}),
    ...extra,
  });
}

const bytes = async (dir: string, file: string) => readFile(join(dir, file));

describe('augment: resampling on the cars (Origin)', () => {
  it('keep: every synthetic train row keeps the kept values of the row it came from (SMOTE and noise copies); test keeps its own', async () => {
    const plain = await origin(undefined, { keep: ['Name', 'Origin'] });
    const augmented = await origin({ resample: { method: 'smote' }, noise: { std: 0.1, copies: 1 } }, { keep: ['Name', 'Origin'] });
    const before = (await readDataset(plain.dir)).splits;
    const { meta, splits: after } = await readDataset(augmented.dir);
    const train = after.train!;
    expect(train.n).toBe(912);
    expect(train.kept!.Name).toHaveLength(912);
    const nameOfRow = new Map(Array.from(before.train!.sourceRows!, (r, i) => [r, before.train!.kept!.Name[i]!]));
    train.sourceRows!.forEach((r, i) => expect(train.kept!.Name[i]).toBe(nameOfRow.get(r)));
    expect(train.kept!.Origin.every((v, i) => v === meta.labels![train.y[i]!])).toBe(true);
    expect(after.test!.kept).toEqual(before.test!.kept);
  });

  it('oversample: every class grows to the majority (152); the stage metrics give rows per class before and after; validation and test are byte-identical', async () => {
    const plain = await origin();
    const over = await origin({ resample: { method: 'oversample' } });
    expect(over.result!.metrics).toMatchObject({
      'augment.rows_before': 243,
      'augment.rows_after': 456,
      'augment.before.Europe': 44,
      'augment.after.Europe': 152,
      'augment.before.Japan': 47,
      'augment.after.Japan': 152,
      'augment.before.USA': 152,
      'augment.after.USA': 152,
      train_rows: 456,
    });
    expect(over.lines).toContain('augment: train rows 243 → 456 (Europe 44 → 152, Japan 47 → 152, USA 152 → 152); validation and test untouched');
    for (const f of ['test.bin', 'validation.bin']) expect((await bytes(over.dir, f)).equals(await bytes(plain.dir, f))).toBe(true);
    const ds = await readDataset(over.dir, ['train']);
    const rowWidth = ds.meta.featureNames.length;
    const original = new Set(Array.from({ length: 243 }, (_, i) => ds.splits.train!.x.slice(i * rowWidth, (i + 1) * rowWidth).join(',')));
    for (let i = 243; i < 456; i++) expect(original.has(ds.splits.train!.x.slice(i * rowWidth, (i + 1) * rowWidth).join(','))).toBe(true);
  });

  it('undersample: every class shrinks to the minority (44)', async () => {
    const under = await origin({ resample: { method: 'undersample' } });
    expect(under.result!.metrics).toMatchObject({ 'augment.after.Europe': 44, 'augment.after.Japan': 44, 'augment.after.USA': 44, train_rows: 132 });
  });

  it('smote: new rows lie between two rows of their class on the numeric columns, the one-hot year is copied (still one-hot); seeded: the same seed gives the same bytes', async () => {
    const a = await origin({ resample: { method: 'smote', ratio: 0.5, k_neighbors: 3 } });
    expect(a.result!.metrics).toMatchObject({ 'augment.after.Europe': 76, 'augment.after.Japan': 76, 'augment.after.USA': 152 });
    const ds = await readDataset(a.dir, ['train']);
    const t = ds.splits.train!;
    const names = ds.meta.featureNames;
    const w = names.length;
    const years = names.flatMap((n, i) => (n.startsWith('Year=') ? [i] : []));
    const numeric = names.flatMap((n, i) => (n.startsWith('Year=') ? [] : [i]));
    const row = (i: number) => t.x.subarray(i * w, (i + 1) * w);
    for (let i = 243; i < t.n; i++) {
      const r = row(i);
      expect(years.reduce((s, c) => s + r[c]!, 0)).toBe(1);
      const same = Array.from({ length: 243 }, (_, j) => j).filter((j) => t.y[j] === t.y[i]);
      for (const c of numeric) {
        const values = same.map((j) => row(j)[c]!);
        expect(r[c]!).toBeGreaterThanOrEqual(Math.min(...values) - 1e-6);
        expect(r[c]!).toBeLessThanOrEqual(Math.max(...values) + 1e-6);
      }
    }
    const b = await origin({ resample: { method: 'smote', ratio: 0.5, k_neighbors: 3 } });
    expect((await bytes(b.dir, 'train.bin')).equals(await bytes(a.dir, 'train.bin'))).toBe(true);
    const c = await origin({ seed: 7, resample: { method: 'smote', ratio: 0.5, k_neighbors: 3 } });
    expect((await bytes(c.dir, 'train.bin')).equals(await bytes(a.dir, 'train.bin'))).toBe(false);
  });

  it('noise: two noisy copies of each row; numeric columns moved by about std 0.1 (z-scored), one-hot columns untouched', async () => {
    const { result, dir } = await origin({ noise: { std: 0.1, copies: 2 } });
    expect(result!.metrics).toMatchObject({ 'augment.rows_before': 243, 'augment.rows_after': 729, 'augment.after.USA': 456 });
    const ds = await readDataset(dir, ['train']);
    const t = ds.splits.train!;
    const names = ds.meta.featureNames;
    const w = names.length;
    const diffs: number[] = [];
    for (let i = 0; i < 243; i++) {
      for (const copy of [1, 2]) {
        const k = copy * 243 + i;
        expect(t.y[k]).toBe(t.y[i]);
        expect(t.sourceRows![k]).toBe(t.sourceRows![i]);
        names.forEach((n, c) => (n.startsWith('Year=') ? expect(t.x[k * w + c]).toBe(t.x[i * w + c]) : diffs.push(t.x[k * w + c]! - t.x[i * w + c]!)));
      }
    }
    const std = Math.sqrt(diffs.reduce((a, d) => a + d * d, 0) / diffs.length);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
  });

  it('says what cannot be done: resampling a regression target, augmenting folds', async () => {
    await expect(origin({ resample: { method: 'oversample' } }, { target: 'Miles_per_Gallon', task: 'regression', features: ['Cylinders', 'Weight_in_lbs'], columns: {} })).rejects.toThrowErrorMatchingInlineSnapshot(`
      [DataError: augment.resample balances classes, but this dataset is a regression
        hint: remove augment.resample (or train with class_weight on a classification target)]
    `);
    await expect(origin({ noise: { std: 0.1 } }, { split: { kfold: 5 } })).rejects.toThrow(/augment cannot be combined with cross-validation folds yet/);
  });
});

describe('augment: text (SMS spam)', () => {
  it('oversamples spam and adds a perturbed copy of every message; a copy keeps its label and only holds tokens of its original (or the OOV id)', async () => {
    const ws = await tempDir();
    const [header, ...lines] = (await readFile(sms, 'utf8')).trim().split('\n');
    await writeFile(join(ws, 'sms.tsv'), `${[header, ...lines.slice(0, 600), ...lines.slice(-200)].join('\n')}\n`);
    const { result, dir } = await runStage(ws, {
      input: join(ws, 'sms.tsv'),
      target: 'label',
      text: { column: 'text', tokenizer: 'whitespace', vocab_size: 2000, max_length: 24 },
      split: { test: 0.2, validation: 0, seed: 42 },
      augment: { resample: { method: 'oversample' }, text: { deletion: 0.1, swap: 1, dropout: 0.1 } },
    });
    const m = result!.metrics!;
    expect(m['augment.before.spam']).toBeLessThan(m['augment.before.ham']!);
    expect(m['augment.after.spam']).toBe(m['augment.after.ham']);
    expect(m['augment.after.ham']).toBe(2 * m['augment.before.ham']!);
    expect(m['augment.rows_after']).toBe(m['augment.after.ham']! + m['augment.after.spam']!);
    const t = (await readDataset(dir, ['train'])).splits.train!;
    const L = 24;
    const resampled = (m['augment.rows_after'] as number) / 2;
    let changed = 0;
    for (let i = 0; i < resampled; i++) {
      const a = [...t.x.subarray(i * L, (i + 1) * L)].filter((v) => v !== 0);
      const b = [...t.x.subarray((resampled + i) * L, (resampled + i + 1) * L)].filter((v) => v !== 0);
      expect(t.y[resampled + i]).toBe(t.y[i]);
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(a.length);
      for (const tok of b) expect(tok === 1 || a.includes(tok)).toBe(true);
      if (a.join() !== b.join()) changed++;
    }
    expect(changed / resampled).toBeGreaterThan(0.5);
  });

  it('augmentTokens keeps the padding side; swap alone keeps the tokens; deletion keeps at least one', () => {
    const out = new Int32Array(6);
    augmentTokens([0, 0, 5, 6, 7, 8], out, { deletion: 0, swap: 2, dropout: 0, padding: 'pre' }, seededRandom(1));
    expect([...out.subarray(0, 2)]).toEqual([0, 0]);
    expect([...out.subarray(2)].sort()).toEqual([5, 6, 7, 8]);
    augmentTokens([5, 6, 0, 0, 0, 0], out, { deletion: 0.99, swap: 0, dropout: 0, padding: 'post' }, seededRandom(2));
    expect(out.filter((v) => v !== 0).length).toBe(1);
    expect(out[0]).not.toBe(0);
  });
});

describe('augment: images (the digits as PNG files)', () => {
  it('adds one flipped/shifted/rotated copy of each image; pixels stay in [0, 1], copies differ from their originals', async () => {
    const sharp = (await import('sharp')).default;
    const ws = await tempDir();
    const rows = (await readFile(digits, 'utf8')).trim().split('\n').slice(0, 60).map((l) => JSON.parse(l) as { pixels: number[]; digit: number });
    const csv = ['file,digit'];
    for (const [i, r] of rows.entries()) {
      await sharp(Buffer.from(r.pixels.map((p) => Math.round((p / 16) * 255))), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(ws, `d${i}.png`));
      csv.push(`d${i}.png,${r.digit}`);
    }
    await writeFile(join(ws, 'digits.csv'), `${csv.join('\n')}\n`);
    const { result, dir } = await runStage(ws, {
      input: join(ws, 'digits.csv'),
      target: 'digit',
      task: 'multiclass',
      image: { column: 'file', width: 8, height: 8 },
      split: { test: 0.2, validation: 0, seed: 1 },
      augment: { image: { flip: 'horizontal', shift: 0.125, rotate: 10 } },
    });
    expect(result!.metrics).toMatchObject({ 'augment.rows_before': 48, 'augment.rows_after': 96 });
    const t = (await readDataset(dir, ['train'])).splits.train!;
    expect(t.xShape).toEqual([96, 8, 8, 1]);
    let differ = 0;
    for (let i = 0; i < 48; i++) {
      const a = t.x.subarray(i * 64, (i + 1) * 64);
      const b = t.x.subarray((48 + i) * 64, (49 + i) * 64);
      for (const v of b) expect(v >= 0 && v <= 1).toBe(true);
      if (a.join() !== b.join()) differ++;
    }
    expect(differ).toBeGreaterThan(40);
  });

  it('augmentImage: a flip mirrors the rows; no transform copies the image', () => {
    const img = [1, 2, 3, 4, 5, 6];
    const out = new Array<number>(6);
    augmentImage(img, out, { height: 2, width: 3, channels: 1 }, { flip: 'none', shift: 0, rotate: 0 }, seededRandom(1));
    expect(out).toEqual(img);
    const flips = new Set<string>();
    for (let s = 0; s < 8; s++) {
      augmentImage(img, out, { height: 2, width: 3, channels: 1 }, { flip: 'horizontal', shift: 0, rotate: 0 }, seededRandom(s));
      flips.add(out.join());
    }
    expect([...flips].sort()).toEqual(['1,2,3,4,5,6', '3,2,1,6,5,4']);
  });
});
