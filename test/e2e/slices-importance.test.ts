import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

/** Penguins: sex is no feature but kept (and sliced on), island both; SMOTE on the train split; a slice-gap gate. */
const spec = `name: penguins-slices
stages:
  prepare:
    uses: preprocess
    with:
      input: data/penguins.csv
      target: species
      exclude: [sex]
      keep: [sex, island]
      split: { test: 0.3, validation: 0.15, seed: 7 }
      augment: { resample: { method: smote } }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: mlp, hidden_units: [16] }
      optimizer: { name: adam, learning_rate: 0.01 }
      epochs: 60
      batch_size: 16
      early_stopping: { monitor: val_loss, patience: 10 }
      seed: 42
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.model}
      data: \${stages.prepare.outputs.dataset}
      metrics: [accuracy, f1]
      slices: [sex, island]
      importance: { repeats: 5, seed: 1 }
  deploy:
    uses: deploy
    needs: [evaluate]
    with:
      model: \${stages.train.outputs.model}
      name: penguins
      gate: "accuracy >= 0.85 and slices.sex.accuracy_gap <= 0.15"
`;

describe('slice metrics and permutation importance from the CLI (Palmer penguins)', () => {
  let ws: Workspace;
  let runId: string;
  afterAll(() => ws?.cleanup());

  it('evaluate records every metric per sex and island value and their gaps; a deploy gate on a gap passes, and fails when it is stricter than the gap', async () => {
    ws = await makeWorkspace({ 'penguins.yaml': spec });
    await mkdir(ws.path('data'));
    await copyFile(join(repoRoot, 'pipelines', 'penguins', 'data', 'penguins.csv'), ws.path('data/penguins.csv'));
    const r = await runCli(['run', 'penguins.yaml', '--json'], { cwd: ws.dir, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    runId = out.runId;
    const m = out.metrics as Record<string, number>;
    // 333 rows with every measurement (sex may be missing), 30% of them in the test split.
    expect(m['evaluate.slices.sex.female.n']! + m['evaluate.slices.sex.male.n']! + (m['evaluate.slices.sex._missing.n'] ?? 0)).toBe(m['prepare.test_rows']);
    expect(m['evaluate.slices.island.Biscoe.n']! + m['evaluate.slices.island.Dream.n']! + m['evaluate.slices.island.Torgersen.n']!).toBe(m['prepare.test_rows']);
    for (const key of ['sex.female', 'sex.male', 'island.Biscoe', 'island.Dream', 'island.Torgersen']) {
      expect(m[`evaluate.slices.${key}.accuracy`]).toBeGreaterThanOrEqual(0);
      expect(m[`evaluate.slices.${key}.f1`]).toBeLessThanOrEqual(1);
    }
    const sexAccuracies = Object.entries(m).filter(([k]) => /^evaluate\.slices\.sex\.[^.]+\.accuracy$/.test(k)).map(([, v]) => v);
    expect(m['evaluate.slices.sex.accuracy_gap']).toBeCloseTo(Math.max(...sexAccuracies) - Math.min(...sexAccuracies), 12);
    expect(m['evaluate.slices.island.f1_gap']).toBeGreaterThanOrEqual(0);
    expect(m['evaluate.accuracy']).toBeGreaterThanOrEqual(0.85);
    expect(m['evaluate.slices.sex.accuracy_gap']).toBeLessThanOrEqual(0.15);
    expect(m['deploy.version']).toBe(1);

    const strict = await runCli(['run', 'penguins.yaml', '--set', 'deploy.gate=slices.island.accuracy_gap < 0'], { cwd: ws.dir, timeoutMs: 300_000 });
    expect(strict.code, strict.stderr).toBe(3);
    expect(strict.stderr + strict.stdout).toMatch(/gate failed: slices\.island\.accuracy_gap < 0 \(slices\.island\.accuracy_gap = [\d.e-]+\)/);
  });

  it('importance: a mean drop and std per source column in the metrics and importance.json, and report shows them in a table sorted by the drop', async () => {
    const first = { id: runId };
    const shown = await runCli(['runs', 'show', first.id, '--json'], { cwd: ws.dir });
    expect(shown.code, shown.stderr).toBe(0);
    const metrics = JSON.parse(shown.stdout).metrics as Record<string, number>;
    const features = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island'];
    for (const f of features) {
      expect(metrics[`evaluate.importance.${f}.mean`], f).toBeTypeOf('number');
      expect(metrics[`evaluate.importance.${f}.std`], f).toBeGreaterThanOrEqual(0);
    }
    expect(metrics['evaluate.importance.sex.mean']).toBeUndefined();
    const ranked = [...features].sort((a, b) => metrics[`evaluate.importance.${b}.mean`]! - metrics[`evaluate.importance.${a}.mean`]!);
    expect(metrics[`evaluate.importance.${ranked[0]}.mean`]).toBeGreaterThan(0.05);

    const doc = JSON.parse(await readFile(ws.path(`runs/${first.id}/evaluate/importance.json`), 'utf8'));
    expect(doc).toMatchObject({ schemaVersion: 1, split: 'test', metric: 'accuracy', repeats: 5, seed: 1 });
    expect(doc.features.map((f: { name: string }) => f.name)).toEqual(ranked);
    expect(doc.features[0].drops).toHaveLength(5);

    const report = await runCli(['report', first.id, '--out', 'report.html'], { cwd: ws.dir });
    expect(report.code, report.stderr).toBe(0);
    const html = await readFile(ws.path('report.html'), 'utf8');
    const table = html.slice(html.indexOf('<h2>Feature importance</h2>'));
    expect(table).toContain('<table class="importance">');
    const order = ranked.map((f) => table.indexOf(`<th>${f}</th>`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('validate: a slice column the preprocess stage does not keep is an error at its spec line and column', async () => {
    const bad = await runCli(['validate', 'penguins.yaml', '--set', 'evaluate.slices=[sex, species]'], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).toMatch(/expected a column the preprocess stage "prepare" keeps \(sex, island\), got "species"/);
    const inFile = await runCli(['validate', 'penguins.yaml', '--set', 'prepare.keep=[island]'], { cwd: ws.dir });
    expect(inFile.code).toBe(2);
    expect(inFile.stderr + inFile.stdout).toMatch(/penguins\.yaml:28:\d+.*got "sex"/);
    await writeFile(ws.path('bad-keep.yaml'), spec.replace('keep: [sex, island]', 'keep: [sex, Island]').replace('slices: [sex, island]', 'slices: [sex]'));
    const missing = await runCli(['run', 'bad-keep.yaml'], { cwd: ws.dir });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr + missing.stdout).toContain('data/penguins.csv: has no column "Island" (named by keep[1]), at bad-keep.yaml:9:19');
  });
});
