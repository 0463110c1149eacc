import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { irisRegistry, type IrisRegistry } from './iris-models.js';
import { startServe, type ServeProcess } from './serve-process.js';

let reg: IrisRegistry;

/** Starts `mlpipe serve` in the registry's folder on a free port. */
const serve = (...args: string[]): Promise<ServeProcess> => startServe(reg.dir, reg.env, ...args);

const iris = { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 };
async function predict(url: string, instances: unknown[] = [iris]): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
  return { status: r.status, body: await r.json() };
}

beforeAll(async () => {
  reg = await irisRegistry();
  const r = await runCli(['models', 'promote', 'iris@1', '--alias', 'production'], { cwd: reg.dir, env: reg.env });
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(() => reg?.cleanup());

describe('mlpipe serve', () => {
  it('refuses an unknown model with exit 2 and the list of versions', async () => {
    const r = await runCli(['serve', 'iris@canary', '--port', '0'], { cwd: reg.dir, env: reg.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no registered model matches "iris@canary": iris has v2, v1 (production)');
  });

  it('answers /predict, /health and /metrics; follows the alias through a promotion under load with no failed request; drains on SIGTERM and exits 0', async () => {
    const server = await serve('iris@production', '--watch-interval', '50', '--verbose');
    try {
      const health = await (await fetch(`${server.url}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', model: 'iris', version: 1, follows: 'production', backend: 'cpu', task: 'multiclass' });
      const first = await predict(server.url, [iris, { ...iris, petal_length: 1.4, petal_width: 0.2 }]);
      expect(first.status).toBe(200);
      expect(first.body.model).toEqual({ name: 'iris', version: 1 });
      expect(first.body.predictions.map((p: any) => p.label)).toEqual(['versicolor', 'setosa']);
      const bad = await predict(server.url, [{ ...iris, petal_width: undefined }]);
      expect(bad).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'instances[0].petal_width: is missing' } });

      const statuses = new Map<number, number>();
      const versionsByWorker: number[][] = [[], [], [], []];
      let promoted: Promise<unknown> | undefined;
      let afterPromotion = 0;
      let sent = 0;
      const worker = async (w: number) => {
        while (sent < 20_000 && afterPromotion < 200) {
          sent++;
          const r = await predict(server.url);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          versionsByWorker[w]!.push(r.body.model?.version);
          if (sent === 100) promoted = runCli(['models', 'promote', 'iris@2', '--alias', 'production'], { cwd: reg.dir, env: reg.env });
          if (r.body.model?.version === 2) afterPromotion++;
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      expect(await promoted).toMatchObject({ code: 0 });
      expect([...statuses.keys()]).toEqual([200]);
      expect(afterPromotion).toBeGreaterThanOrEqual(200);
      for (const versions of versionsByWorker) {
        const firstNew = versions.indexOf(2);
        expect(versions.slice(0, firstNew).every((v) => v === 1)).toBe(true);
        expect(versions.slice(firstNew).every((v) => v === 2)).toBe(true);
      }
      expect(server.stderr()).toContain('iris@production moved: now serving v2 (was v1)');

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^mlpipe_http_requests_total\{route="\/predict",method="POST",status="400"\} 1$/m);
      expect(metrics).toMatch(/^mlpipe_model_swaps_total 1$/m);
      expect(metrics).toMatch(/^mlpipe_input_feature_drift_zscore\{feature="petal_length"\} /m);
      expect(metrics).toMatch(/^mlpipe_predictions_total\{model="iris",version="2",class="versicolor"\} \d+$/m);

      const body = JSON.stringify({ instances: Array.from({ length: 500 }, (_, i) => ({ ...iris, sepal_length: 4.5 + (i % 30) / 10 })) });
      const half = body.length >> 1;
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, half));
        void (async () => {
          await waitFor('the request to reach the server', () => /→ POST \/predict\n(?![\s\S]*← POST)/.test(server.stderr()));
          server.child.kill('SIGTERM');
          await waitFor('the server to start draining', () => server.stderr().includes('SIGTERM: draining in-flight requests'));
          req.end(body.slice(half));
        })();
      });
      const done = await answer;
      expect(done.status).toBe(200);
      expect(JSON.parse(done.text).predictions).toHaveLength(500);
      expect(await server.exited).toBe(0);
      expect(server.stderr()).toMatch(/→ POST \/predict\nSIGTERM: draining in-flight requests\n← POST \/predict 200 [\d.]+ms\nstopped\n$/);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('serves a fixed version without following the alias', async () => {
    const server = await serve('iris@1', '--watch-interval', '50');
    try {
      expect((await (await fetch(`${server.url}/health`)).json()).follows).toBeNull();
      expect((await runCli(['models', 'promote', 'iris@2', '--alias', 'production'], { cwd: reg.dir, env: reg.env })).code).toBe(0);
      for (let i = 0; i < 20; i++) expect((await predict(server.url)).body.model.version).toBe(1);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
