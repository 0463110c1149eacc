import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

/** A preprocess → train (→ evaluate) pipeline: `prepare` and `train` are the lines of each stage's `with`, indented by the caller's 6 spaces. */
function pipeline(name: string, prepare: string[], train: string[], evaluate: boolean): string {
  const lines = [`name: ${name}`, 'stages:', '  prepare:', '    uses: preprocess', '    with:', ...prepare, '  train:', '    uses: train', '    with:', '      data: ${stages.prepare.outputs.dataset}', ...train];
  if (evaluate) lines.push('  evaluate:', '    uses: evaluate', '    with:', '      model: ${stages.train.outputs.model}', '      data: ${stages.prepare.outputs.dataset}');
  return `${lines.join('\n')}\n`;
}

const irisCv = pipeline(
  'iris-cv',
  ['      input: data/iris.csv', '      target: species', '      split: { test: 0.2, seed: 42, kfold: 5 }'],
  ['      model: { preset: mlp, hidden_units: [16] }', '      optimizer: { name: adam, learning_rate: 0.01 }', '      epochs: 60', '      batch_size: 16', '      early_stopping: { monitor: val_loss, patience: 10 }'],
  true,
);

const carsOrigin = pipeline(
  'cars-origin',
  [
    '      input: data/cars.json',
    '      target: Origin',
    '      features: [Miles_per_Gallon, Cylinders, Displacement, Horsepower, Weight_in_lbs, Acceleration]',
    '      missing: median',
    '      split: { test: 0.25, validation: 0.15, seed: 42 }',
    '      augment: { resample: { method: smote } }',
  ],
  ['      model: { preset: mlp, hidden_units: [16] }', '      epochs: 5'],
  false,
);

describe('improving a model from the CLI: k-fold cross-validation and resampling', () => {
  let ws: Workspace;
  afterAll(() => ws?.cleanup());

  it('iris with split.kfold 5: train records cv.<metric>.mean/std and the per-fold points; evaluate scores the refit model on the test split', async () => {
    ws = await makeWorkspace({ 'iris-cv.yaml': irisCv, 'cars-origin.yaml': carsOrigin });
    await mkdir(ws.path('data'));
    await copyFile(join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv'), ws.path('data/iris.csv'));
    await copyFile(join(repoRoot, 'pipelines', 'fuel-economy', 'data', 'cars.json'), ws.path('data/cars.json'));
    const r = await runCli(['run', 'iris-cv.yaml', '--json'], { cwd: ws.dir, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const m = out.metrics as Record<string, number>;
    expect(m['prepare.folds']).toBe(5);
    expect(m['train.cv.folds']).toBe(5);
    expect(m['train.cv.accuracy.mean']).toBeGreaterThan(0.85);
    expect(m['train.cv.accuracy.std']).toBeGreaterThanOrEqual(0);
    expect(m['train.cv.accuracy.std']).toBeLessThan(0.15);
    expect(m['evaluate.accuracy']).toBeGreaterThan(0.85);
    const show = await runCli(['runs', 'show', out.runId, '--json'], { cwd: ws.dir });
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown.metrics['train.cv.accuracy.mean']).toBe(m['train.cv.accuracy.mean']);
    expect(shown.curves['train.cv.accuracy'].points).toBe(5);
    expect(m['train.epochs']).toBeLessThanOrEqual(60);
  });

  it('cars Origin with augment.resample smote: the rows per class before/after are stage metrics, and validate rejects a wrong method', async () => {
    const r = await runCli(['run', 'cars-origin.yaml', '--json'], { cwd: ws.dir, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout).metrics as Record<string, number>;
    expect(m).toMatchObject({ 'prepare.augment.before.Europe': 44, 'prepare.augment.after.Europe': 152, 'prepare.augment.after.Japan': 152, 'prepare.augment.after.USA': 152, 'prepare.train_rows': 456 });
    const bad = await runCli(['validate', 'cars-origin.yaml', '--set', 'prepare.augment.resample.method=smoteish'], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).toContain('--set prepare.augment.resample.method: expected one of "oversample", "undersample", "smote", got "smoteish"');
  });
});
