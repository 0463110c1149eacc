import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { createTestDatabase, postgresAvailable, skippedReason, type TestDatabase } from '../helpers/postgres.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { startCli, waitFor } from './harness.js';

// Issue 11 item 2: the tracker on a real PostgreSQL server, shared by processes and workspaces.

const available = await postgresAvailable();
if (!available) console.warn(`skipping the PostgreSQL e2e tests: ${skippedReason()}`);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function workspace(files: Record<string, string>): Promise<Workspace> {
  const ws = await makeWorkspace(files);
  cleanups.push(() => ws.cleanup());
  return ws;
}

async function query<T extends pg.QueryResultRow = any>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A TCP proxy to the PostgreSQL server that the test can cut (the shared server itself is never stopped). */
async function proxyTo(url: string): Promise<{ url: string; cut(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as AddressInfo).port);
  let cut = false;
  const close = async () => {
    if (cut) return;
    cut = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return { url: proxied.toString(), cut: close };
}

// train.yaml logs a metric per seed; deploy.yaml registers the folder models/m<seed> as model "shared".
const files = {
  'train.yaml': `name: train
params: { seed: 0 }
stages:
  make:
    run: |
      mkdir -p out && echo "\${params.seed}" > out/m.txt && echo '{"score": \${params.seed}}' > out/metrics.json
    outs: [out/m.txt, out/metrics.json]
    metrics: out/metrics.json
`,
  'deploy.yaml': `name: deploy
params: { seed: 0 }
stages:
  ship:
    uses: deploy
    with: { model: "models/m\${params.seed}", name: shared, alias: production }
`,
  ...Object.fromEntries([1, 2, 3, 4].map((i) => [`models/m${i}/weights.bin`, `weights of model ${i}\n`])),
};

describe.skipIf(!available)('PostgreSQL tracker shared by processes (MLPIPE_TEST_POSTGRES_URL)', () => {
  it('8 runs at once over two workspaces, 4 of them deploying one model name: no error, every row, versions 1..4', async () => {
    const db = await database();
    const a = await workspace(files);
    const b = await workspace(files);
    const env = { MLPIPE_TRACKER: db.url };
    const plan: [Workspace, string, number][] = [
      [a, 'train.yaml', 1],
      [a, 'train.yaml', 2],
      [a, 'deploy.yaml', 1],
      [a, 'deploy.yaml', 3],
      [b, 'train.yaml', 3],
      [b, 'train.yaml', 4],
      [b, 'deploy.yaml', 2],
      [b, 'deploy.yaml', 4],
    ];
    // The four deploys wait at the registry's door until all four are there, then go in at once: a
    // version numbered without the per-name lock would be taken twice (the test fails on that race).
    const go = a.path('go');
    const started = plan.map(([ws, spec, seed]) =>
      startCli(['run', spec, '--set', `params.seed=${seed}`, '--json'], ws.dir, spec === 'deploy.yaml' ? { ...env, MLPIPE_TEST_PAUSE_BEFORE: 'register-model', MLPIPE_TEST_RESUME_WHEN: go } : env),
    );
    const deploys = started.filter((_, i) => plan[i]![1] === 'deploy.yaml');
    for (const d of deploys) await waitFor('each deploy to reach the registry', () => d.stderr().includes('MLPIPE_TEST_PAUSED register-model'), d);
    writeFileSync(go, '');
    const codes = await Promise.all(started.map((s) => s.exited));
    for (const [i, code] of codes.entries()) expect({ code, error: code === 0 ? undefined : `${started[i]!.stdout()}\n${started[i]!.stderr()}` }).toEqual({ code: 0, error: undefined });
    const results = started.map((s) => ({ json: JSON.parse(s.stdout()) }));
    const ids = results.map((r) => r.json.runId as string);
    expect(new Set(results.filter((_, i) => plan[i]![1] === 'deploy.yaml').map((r) => r.json.metrics['ship.version']))).toEqual(new Set([1, 2, 3, 4]));

    const runs = await query(db.url, 'select id, pipeline, status from runs order by id');
    expect(runs).toHaveLength(8);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(ids));
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
    const stages = await query(db.url, 'select run_id, stage, status from stage_runs');
    expect(stages.map((s) => `${s.run_id}:${s.stage}:${s.status}`).sort()).toEqual(
      plan.map(([, spec], i) => `${ids[i]}:${spec === 'train.yaml' ? 'make' : 'ship'}:completed`).sort(),
    );
    const metrics = await query(db.url, "select run_id, key, value from metrics where step is null and key in ('score', 'version')");
    for (const [i, [, spec, seed]] of plan.entries()) {
      const mine = metrics.filter((m) => m.run_id === ids[i]);
      if (spec === 'train.yaml') expect(mine).toEqual([{ run_id: ids[i], key: 'score', value: seed }]);
      else expect(mine.map((m) => m.key)).toEqual(['version']);
    }

    const models = await query(db.url, "select version, run_id, artifact_hash from models where name = 'shared' order by version");
    expect(models.map((m) => m.version)).toEqual([1, 2, 3, 4]);
    expect(new Set(models.map((m) => m.artifact_hash)).size).toBe(4);
    const deployIds = plan.flatMap(([, spec], i) => (spec === 'deploy.yaml' ? [ids[i]] : []));
    expect(models.map((m) => m.run_id).sort()).toEqual([...deployIds].sort());
    for (const [i, [ws, spec]] of plan.entries()) {
      if (spec !== 'deploy.yaml') continue;
      const registration = JSON.parse(readFileSync(join(ws.dir, 'runs', ids[i]!, 'ship', 'registration.json'), 'utf8'));
      const row = models.find((m) => m.run_id === ids[i])!;
      expect(registration).toMatchObject({ name: 'shared', version: row.version });
      expect(existsSync(join(ws.dir, 'runs', 'models', 'shared', String(row.version), 'weights.bin'))).toBe(true);
    }
    const alias = await query(db.url, "select version from model_aliases where name = 'shared' and alias = 'production'");
    expect(alias).toEqual([{ version: 4 }]);

    const listed = await runJson(['runs', 'list', '--limit', '20'], { cwd: b.dir, env });
    expect(listed.code).toBe(0);
    expect(new Set(listed.json.runs.map((r: { id: string }) => r.id))).toEqual(new Set(ids));
    expect(existsSync(join(a.dir, 'runs', 'tracker.db'))).toBe(false);
  });

  it('every command works unchanged against it', async () => {
    const db = await database();
    const ws = await workspace({
      ...files,
      'iris/data/iris.csv': readFileSync(join(import.meta.dirname, '..', '..', 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8'),
      'iris/pipeline.yaml': readFileSync(join(import.meta.dirname, '..', '..', 'pipelines', 'iris', 'pipeline.yaml'), 'utf8').replace('epochs: 100', 'epochs: 20'),
    });
    const cli = (...args: string[]) => runCli([...args, '--tracker', db.url], { cwd: ws.dir });
    const json = (...args: string[]) => runJson([...args, '--tracker', db.url], { cwd: ws.dir });
    const first = await json('run', 'iris/pipeline.yaml', '--backend', 'cpu');
    expect(first.code).toBe(0);
    const again = await json('run', 'iris/pipeline.yaml', '--backend', 'cpu');
    expect(again.json.stages.filter((s: { cached: boolean }) => s.cached).map((s: { name: string }) => s.name)).toEqual(['prepare', 'train', 'evaluate']);
    expect((await json('status', 'iris/pipeline.yaml')).code).toBe(0);
    const list = await json('runs', 'list');
    expect(list.json.runs.map((r: { id: string }) => r.id)).toEqual([again.json.runId, first.json.runId]);
    const show = await json('runs', 'show', 'iris@1');
    expect(show.json.run.id).toBe(first.json.runId);
    expect(show.json.metrics['evaluate.accuracy']).toBeGreaterThan(0.8);
    const compared = await json('compare', 'runs', '--last', '2');
    expect(compared.json.runs.map((r: { id: string }) => r.id)).toEqual([first.json.runId, again.json.runId]);
    expect((await json('models', 'list')).json.models.map((m: { version: number }) => m.version)).toEqual([1]);
    expect((await json('models', 'show', 'iris@1')).json.signature.task).toBe('multiclass');
    expect((await json('models', 'promote', 'iris@1', '--alias', 'production')).json).toMatchObject({ version: 1, changed: true });
    expect((await cli('models', 'rollback', 'iris')).code).toBe(2);
    writeFileSync(join(ws.dir, 'rows.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n');
    const predicted = await cli('predict', 'iris@production', '--input', 'rows.csv', '--output', 'out.csv', '--backend', 'cpu');
    expect(predicted.code).toBe(0);
    expect(readFileSync(join(ws.dir, 'out.csv'), 'utf8')).toContain('setosa');
    const report = await cli('report', '--last', '2', '--out', 'report.html');
    expect(report.code).toBe(0);
    expect((await json('gc', '--dry')).json.runs.total).toBe(2);
    expect(existsSync(join(ws.dir, 'runs', 'tracker.db'))).toBe(false);
  });

  it('the server going away during a run: a clear error naming the tracker, and the completed stages restored on the re-run', async () => {
    const db = await database();
    const proxy = await proxyTo(db.url);
    const ws = await workspace({
      'p.yaml': `name: p
stages:
  first:
    run: mkdir -p out && echo one > out/first.txt
    outs: [out/first.txt]
  second:
    run: mkdir -p out && touch started && while [ ! -f go ]; do sleep 0.05; done && echo two > out/second.txt
    needs: [first]
    outs: [out/second.txt]
`,
    });
    const running = startCli(['run', 'p.yaml'], ws.dir, { MLPIPE_TRACKER: proxy.url });
    await waitFor('the second stage to start', () => existsSync(ws.path('started')), running);
    await proxy.cut();
    writeFileSync(ws.path('go'), '');
    const code = await running.exited;
    expect(code, running.stderr()).toBe(2);
    const stderr = running.stderr();
    expect(stderr).toContain(`Error: the tracker ${proxy.url} is unreachable:`);
    expect(stderr).toContain('Hint: check that the database server is running');
    expect(stderr).not.toMatch(/\n\s+at /);

    const rerun = await runJson(['run', 'p.yaml'], { cwd: ws.dir, env: { MLPIPE_TRACKER: db.url } });
    expect(rerun.code).toBe(0);
    expect(rerun.json.stages.map((s: { name: string; cached: boolean }) => [s.name, s.cached])).toEqual([
      ['first', true],
      ['second', true],
    ]);
    expect(readFileSync(ws.path('out/second.txt'), 'utf8')).toBe('two\n');
    const runs = await query(db.url, 'select id, status from runs order by started_at');
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
  });
});
