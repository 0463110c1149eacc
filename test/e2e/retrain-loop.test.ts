import { appendFile, cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { formatValue } from '../../src/core/expr.js';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * The retraining loop a CI job runs (docs/ci.md): run the pipeline, let the deploy gate compare the
 * new model with the one in production, compare runs against production, promote what passed.
 *
 *   data v1 → run → gate passes (no production yet) → v1 registered → promoted
 *   data v2 (rows appended) → run: every stage downstream of the data re-runs → v2 ≥ v1 → promoted
 *   data v3 (labels shuffled) → run → gate fails, exit 3, nothing registered, production stays v2
 *
 * The test's copy of pipelines/iris differs in what keeps the numbers steady: a fixed training seed,
 * lr 0.05 and an early stop that never triggers (patience 100; the best val_loss weights are kept) — over
 * seeds 1–8 this config never scored v2 below v1 — and the CPU backend, deterministic for a given seed.
 */

const GATE = 'accuracy >= production.accuracy - 0.005';
const QUICK = ['--set', 'params.epochs=40'];
const V2_ROWS = [
  '5.0,3.4,1.5,0.2,setosa',
  '5.2,3.6,1.4,0.3,setosa',
  '6.0,2.8,4.4,1.3,versicolor',
  '5.8,2.7,4.0,1.2,versicolor',
  '6.6,3.0,5.6,2.1,virginica',
  '6.9,3.1,5.7,2.2,virginica',
];

let ws: Workspace;
const spec = () => ws.path('iris/pipeline.yaml');
const data = () => ws.path('iris/data/iris.csv');
const runsDir = () => ws.path('state');
const env = { MLPIPE_BACKEND: 'cpu', MLPIPE_RUNS_DIR: '' };

const mlpipe = (...args: string[]) => runCli([...args, '--runs-dir', runsDir()], { cwd: ws.dir, env });
const mlpipeJson = <T = any>(...args: string[]) => runJson<T>([...args, '--runs-dir', runsDir()], { cwd: ws.dir, env });

interface RunJson {
  runId: string;
  status: string;
  stages: { name: string; cached: boolean; cachedFrom?: string; reason: string; status: string; error?: string }[];
  metrics: Record<string, number>;
}

/** `mlpipe run` as the CI job does it; the summary's `deploy.version` is what it promotes. */
async function retrain(): Promise<RunJson> {
  const r = await mlpipeJson<RunJson>('run', spec(), ...QUICK);
  expect(r.code, `${JSON.stringify(r.json, null, 2)}\n${r.stderr}`).toBe(0);
  return r.json;
}

async function promote(version: number) {
  const r = await mlpipeJson('models', 'promote', `iris@${version}`, '--alias', 'production');
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

async function registry(): Promise<{ version: number; aliases: string[]; runId: string }[]> {
  const r = await mlpipeJson('models', 'list', 'iris');
  expect(r.code, r.stderr).toBe(0);
  return r.json.models;
}

/** Shuffles the label column with a seeded Fisher–Yates (mulberry32), so v3 is the same bad data every time. */
function shuffleLabels(csv: string, seed: number): string {
  const [header, ...lines] = csv.trim().split('\n');
  const rows = lines.map((l) => l.split(','));
  const labels = rows.map((r) => r[r.length - 1]);
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  return `${[header, ...rows.map((r, i) => [...r.slice(0, -1), labels[i]].join(','))].join('\n')}\n`;
}

const byName = (run: RunJson) => Object.fromEntries(run.stages.map((s) => [s.name, s]));

beforeAll(async () => {
  ws = await makeWorkspace();
  await cp(join(repoRoot, 'pipelines', 'iris'), ws.path('iris'), { recursive: true });
  const doc = parseDocument(await readFile(spec(), 'utf8'));
  doc.setIn(['params', 'lr'], 0.05);
  doc.setIn(['stages', 'train', 'with', 'seed'], 7);
  doc.setIn(['stages', 'train', 'with', 'early_stopping', 'patience'], 100);
  doc.setIn(['stages', 'deploy', 'with', 'gate'], GATE);
  await writeFile(spec(), doc.toString());
});
afterAll(async () => ws?.cleanup());

describe('the CI retraining loop on a copy of pipelines/iris', () => {
  let v1: RunJson;
  let v2: RunJson;

  it('data v1: the gate passes with no production yet; v1 is registered and promoted', async () => {
    v1 = await retrain();
    expect(v1.stages.map((s) => [s.name, s.status, s.cached])).toEqual([
      ['prepare', 'completed', false],
      ['train', 'completed', false],
      ['evaluate', 'completed', false],
      ['deploy', 'completed', false],
    ]);
    expect(v1.metrics['deploy.version']).toBe(1);
    const registration = JSON.parse(await readFile(join(runsDir(), v1.runId, 'deploy', 'registration.json'), 'utf8'));
    expect(registration.gate).toMatchObject({ expression: GATE, passed: true, assumed: [GATE] });
    expect(await promote(1)).toMatchObject({ name: 'iris', alias: 'production', version: 1, previous: null, changed: true });
    expect((await registry()).map((m) => [m.version, m.aliases, m.runId])).toEqual([[1, ['production'], v1.runId]]);
  });

  it('unchanged data: everything is restored from v1 and the same version is reused', async () => {
    const again = await retrain();
    const stages = byName(again);
    for (const name of ['prepare', 'train', 'evaluate']) expect([name, stages[name].cached, stages[name].cachedFrom]).toEqual([name, true, v1.runId]);
    expect(stages.deploy.cached).toBe(false);
    expect(again.metrics['deploy.version']).toBe(1);
    expect(await registry()).toHaveLength(1);
  });

  it('data v2 (rows appended): exactly the stages downstream of the data re-run; not worse, so promoted', async () => {
    await appendFile(data(), `${V2_ROWS.join('\n')}\n`);
    v2 = await retrain();
    expect(v2.stages.map((s) => [s.name, s.cached, s.reason])).toEqual([
      ['prepare', false, expect.stringMatching(/^input data\/iris\.csv changed \(\w+… → \w+…\)$/)],
      ['train', false, 'upstream prepare re-runs'],
      ['evaluate', false, 'upstream prepare re-runs'],
      ['deploy', false, expect.any(String)],
    ]);
    expect(v2.metrics['prepare.rows']).toBe(156);
    expect(v2.metrics['evaluate.accuracy']).toBeGreaterThanOrEqual(v1.metrics['evaluate.accuracy'] - 0.005);
    expect(v2.metrics['deploy.version']).toBe(2);

    const compared = await mlpipeJson('compare', 'runs', '--last', '1', '--baseline', 'iris@production', '--fail-if', 'accuracy < baseline - 0.005');
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.json.baseline).toBe(v1.runId);
    expect(compared.json.conditions[0].checks).toEqual([
      { run: v2.runId, holds: false, values: { accuracy: v2.metrics['evaluate.accuracy'], 'baseline.accuracy': v1.metrics['evaluate.accuracy'] } },
    ]);

    expect(await promote(2)).toMatchObject({ version: 2, previous: 1, changed: true });
    expect((await registry()).map((m) => [m.version, m.aliases])).toEqual([
      [2, ['production']],
      [1, []],
    ]);
  });

  it('data v3 (labels shuffled): the gate fails with exit 3 and both values; nothing registered; production stays v2', async () => {
    await writeFile(data(), shuffleLabels(await readFile(data(), 'utf8'), 7));
    const r = await mlpipe('run', spec(), ...QUICK);
    expect(r.code, r.stderr).toBe(3);
    const failed = /stage deploy failed: gate failed: accuracy >= production\.accuracy - 0\.005 \(accuracy = ([\d.]+), production\.accuracy = ([\d.]+)\)/.exec(r.stderr);
    expect(failed, r.stderr).not.toBeNull();
    expect(Number(failed![1])).toBeLessThan(0.6);
    expect(failed![2]).toBe(formatValue(v2.metrics['evaluate.accuracy']));
    expect(r.stderr).toContain('a gate did not pass: nothing was registered (exit code 3).');

    expect((await registry()).map((m) => [m.version, m.aliases, m.runId])).toEqual([
      [2, ['production'], v2.runId],
      [1, [], v1.runId],
    ]);
    expect((await readdir(join(runsDir(), 'models', 'iris'))).filter((f) => !f.startsWith('.')).sort()).toEqual(['1', '2']);
    const shown = await mlpipeJson('models', 'show', 'iris@production');
    expect([shown.code, shown.json.version, shown.json.runId]).toEqual([0, 2, v2.runId]);

    const compared = await mlpipe('compare', 'runs', '--last', '1', '--baseline', 'iris@production', '--fail-if', 'accuracy < baseline - 0.005');
    expect(compared.code).toBe(3);
    expect(compared.stderr).toMatch(/fail-if accuracy < baseline - 0\.005 holds for r-\w+: accuracy = [\d.]+, baseline\.accuracy = [\d.]+/);
  });
});
