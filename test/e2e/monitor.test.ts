import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { irisRegistry, type IrisRegistry } from './iris-models.js';
import { startServe } from './serve-process.js';

/**
 * The monitoring loop: iris v1 in production is served, gets real iris rows, then rows whose petals
 * are 6 cm longer than any flower's (drift); true labels come back through POST /feedback; `mlpipe
 * monitor` reads the log and exits 0, then 4 with the reasons.
 */

let reg: IrisRegistry;
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
type IrisRow = Record<(typeof FEATURES)[number], number> & { species: string };

async function irisRows(): Promise<IrisRow[]> {
  const [, ...lines] = (await readFile(join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8')).trim().split('\n');
  return lines.map((l) => {
    const cells = l.split(',');
    return { ...Object.fromEntries(FEATURES.map((f, i) => [f, Number(cells[i])])), species: cells[4]! } as IrisRow;
  });
}

const post = async (url: string, path: string, body: unknown): Promise<{ status: number; body: any; requestId: string | null }> => {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json(), requestId: r.headers.get('x-request-id') };
};

const monitor = (...args: string[]) => runJson(['monitor', 'iris@production', '--since', '1h', ...args], { cwd: reg.dir, env: reg.env });

beforeAll(async () => {
  reg = await irisRegistry();
  const r = await runCli(['models', 'promote', 'iris@1', '--alias', 'production'], { cwd: reg.dir, env: reg.env });
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(() => reg?.cleanup());

describe('mlpipe monitor', () => {
  it('says there is no log yet with exit 2 and a hint', async () => {
    const r = await runCli(['monitor', 'iris@production', '--since', '1h'], { cwd: reg.dir, env: reg.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Error: no predictions of iris are logged yet: ${join(reg.runsDir, 'monitor', 'iris.sqlite')} does not exist`);
    expect(r.stderr).toContain('Hint: serve the model with its prediction log on (the default)');
    const bad = await runCli(['monitor', 'iris@production', '--since', 'yesterday'], { cwd: reg.dir, env: reg.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since expects a duration like 30m, 1h, 7d or 2w, got "yesterday"');
  });

  it('summarizes logged predictions and feedback: healthy on real rows (exit 0), retrain on drifted ones (exit 4)', async () => {
    const rows = await irisRows();
    const normal = rows.filter((_, i) => i % 3 === 0); // 50 rows, all three species
    const server = await startServe(reg.dir, reg.env, 'iris@production');
    try {
      expect(server.stderr()).toContain(`logging predictions to ${join(reg.runsDir, 'monitor', 'iris.sqlite')}`);
      // 5 requests of 10 rows; feedback for the first 8 rows of each (40 of 50)
      const predicted: string[] = [];
      let correct = 0;
      for (let k = 0; k < 5; k++) {
        const batch = normal.slice(k * 10, k * 10 + 10);
        const r = await post(server.url, '/predict', { instances: batch.map(({ species: _, ...x }) => x) });
        expect(r.status).toBe(200);
        expect(r.requestId).toBe(r.body.id);
        predicted.push(...r.body.predictions.map((p: any) => p.label));
        const labels = batch.slice(0, 8).map((x, i) => ({ id: `${r.body.id}/${i}`, label: x.species }));
        correct += labels.filter((l, i) => r.body.predictions[i].label === l.label).length;
        expect(await post(server.url, '/feedback', labels)).toMatchObject({ status: 200, body: { updated: 8 } });
      }
      const unknown = await post(server.url, '/feedback', { id: 'not-a-request', label: 'setosa' });
      expect(unknown.status).toBe(404);
      expect((await post(server.url, '/feedback', { id: 'x' })).status).toBe(400);

      const healthy = await monitor('--min-accuracy', '0.8');
      expect(healthy.code, healthy.stderr).toBe(0);
      const h = healthy.json;
      expect(h).toMatchObject({ model: 'iris', version: 1, rows: 50, healthy: true, reasons: [], exitCode: 0, otherVersions: {} });
      expect(h.performance).toMatchObject({ metric: 'accuracy', labeled: 40 });
      expect(h.performance.value).toBeCloseTo(correct / 40, 10);
      expect(h.performance.value).toBeGreaterThanOrEqual(0.8);
      expect(h.performance.test).toBeGreaterThanOrEqual(0.9);
      const share = (label: string) => predicted.filter((p) => p === label).length / 50;
      expect(h.predictions.live).toEqual({ kind: 'classes', shares: { setosa: share('setosa'), versicolor: share('versicolor'), virginica: share('virginica') } });
      expect(Object.values<number>(h.predictions.test.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      expect(h.predictions.shift).toBeLessThan(0.2);
      const petal = h.drift.features.find((f: any) => f.feature === 'petal_length');
      const mean = normal.reduce((s, x) => s + x.petal_length, 0) / 50;
      expect(petal).toMatchObject({ rows: 50, missingRatio: 0 });
      expect(petal.recentMean).toBeCloseTo(mean, 10);
      expect(petal.zScore).toBeCloseTo((mean - petal.trainingMean) / petal.trainingStd, 10);
      for (const f of h.drift.features) expect(Math.abs(f.zScore)).toBeLessThan(1);

      // 50 more rows with petals 6 cm longer: the period's mean moves by 3 cm, about 1.7 training stds
      const shifted = normal.map((x) => ({ ...x, petal_length: x.petal_length + 6 }));
      const r = await post(server.url, '/predict', { instances: shifted.map(({ species: _, ...x }) => x) });
      expect(r.status).toBe(200);
      const labels = shifted.map((x, i) => ({ id: `${r.body.id}/${i}`, label: x.species }));
      const correctShifted = labels.filter((l, i) => r.body.predictions[i].label === l.label).length;
      expect((await post(server.url, '/feedback', labels)).body).toEqual({ updated: 50 });

      const drifted = await monitor('--min-accuracy', '0.9');
      expect(drifted.code).toBe(4);
      const d = drifted.json;
      expect(d).toMatchObject({ rows: 100, healthy: false, exitCode: 4 });
      expect(d.performance.labeled).toBe(90);
      expect(d.performance.value).toBeCloseTo((correct + correctShifted) / 90, 10);
      const z = d.drift.features.find((f: any) => f.feature === 'petal_length').zScore;
      expect(z).toBeGreaterThan(1);
      expect(d.reasons[0]).toMatch(/^petal_length drifted: mean [\d.]+ vs [\d.]+ in training, z-score [\d.]+ beyond --max-drift 1$/);
      expect(drifted.stderr).toContain(`retrain: ${d.reasons[0]}`);
      // a looser drift threshold and no accuracy floor: healthy again
      expect((await monitor('--max-drift', '3')).code).toBe(0);

      const text = await runCli(['monitor', 'iris@production', '--since', '1h', '--min-accuracy', '0.9'], { cwd: reg.dir, env: reg.env });
      expect(text.code).toBe(4);
      expect(text.stdout).toContain('iris@production (v1): 100 logged predictions from ');
      expect(text.stdout).toMatch(/^feature +rows +mean +training mean ± std +z-score +missing +unseen$/m);
      expect(text.stdout).toMatch(/^petal_length +100 +[\d.]+ +[\d.]+ ± [\d.]+ +[\d.]+ ! +0%/m);
      expect(text.stdout).toMatch(/^live accuracy: [\d.]+ over 90 labeled rows \(test split: [\d.]+\)$/m);
      expect(text.stdout).toContain(`retrain: ${d.reasons[0]}`);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }

    // --no-log: no /feedback route and nothing added to the log
    const quiet = await startServe(reg.dir, reg.env, 'iris@production', '--no-log');
    try {
      expect(quiet.stderr()).not.toContain('logging predictions');
      const { species: _, ...x } = normal[0]!;
      expect((await post(quiet.url, '/predict', { instances: [x] })).status).toBe(200);
      const nf = await post(quiet.url, '/feedback', { id: 'x', label: 'setosa' });
      expect(nf).toMatchObject({ status: 404, body: { message: 'no route POST /feedback; routes: POST /predict, GET /health, GET /metrics' } });
      quiet.child.kill('SIGTERM');
      expect(await quiet.exited).toBe(0);
    } finally {
      quiet.child.kill('SIGKILL');
    }
    expect((await monitor()).json.rows).toBe(100);
  });

  it('writes every answered prediction to the log before it exits on SIGTERM', async () => {
    const before = (await monitor()).json.rows as number;
    const { species: _, ...x } = (await irisRows())[0]!;
    const server = await startServe(reg.dir, reg.env, 'iris@production');
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(server.url, '/predict', { instances: [x, x, x] })));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
    expect((await monitor()).json.rows).toBe(before + 60);
  });
});
