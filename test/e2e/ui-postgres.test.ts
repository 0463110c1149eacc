import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunsResponse } from '../../src/serve/ui/api-types.js';
import { cliPath, repoRoot, runJson } from '../helpers/cli.js';
import { createTestDatabase, postgresAvailable, skippedReason, type TestDatabase } from '../helpers/postgres.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

const available = await postgresAvailable();
if (!available) console.warn(`skipping mlpipe ui on PostgreSQL: ${skippedReason()}`);

let db: TestDatabase;
let ws: Workspace;
let env: Record<string, string>;
let url: string;
let stop: () => Promise<void>;

const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(new URL(path, url));
  return { status: res.status, body: (await res.json()) as T };
};

describe.skipIf(!available)('mlpipe ui over a PostgreSQL tracker (MLPIPE_TEST_POSTGRES_URL)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    ws = await makeWorkspace();
    await cp(join(repoRoot, 'pipelines', 'weather'), join(ws.dir, 'weather'), { recursive: true });
    env = { MLPIPE_RUNS_DIR: ws.path('runs'), MLPIPE_TRACKER: db.url };
    for (const t of ['45', '30']) {
      const r = await runJson(['run', 'weather/pipeline.yaml', '--set', `params.max_temp=${t}`], { cwd: ws.dir, env });
      expect(r.code, r.stderr).toBe(0);
    }
    const child = spawn(process.execPath, [cliPath, 'ui', '--port', '0', '--poll-interval', '200'], { cwd: ws.dir, env: { ...process.env, ...env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((resolve) => child.on('close', resolve));
    stop = async () => void (child.kill('SIGTERM'), await exited);
    let err = '';
    url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = / at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`mlpipe ui exited ${code}:\n${err}`)));
    });
  }, 240_000);

  afterAll(async () => {
    await stop?.();
    await db?.drop();
    await ws?.cleanup();
  });

  it('filters, sorts and pages the runs in PostgreSQL as runs list does, and shows a new run live', async () => {
    const filter = 'params.max_temp < 40 or metrics.summary.station_months >= 0';
    const cli = await runJson(['runs', 'list', '--filter', filter, '--order-by', 'params.max_temp asc'], { cwd: ws.dir, env });
    expect(cli.code, cli.stderr).toBe(0);
    const page = await api<RunsResponse>(`/api/runs?filter=${encodeURIComponent(filter)}&sort=params.max_temp&dir=asc&limit=1&offset=1`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 2, offset: 1 });
    expect(page.body.runs.map((r) => r.id)).toEqual([cli.json.runs[1].id]);
    expect(page.body.runs[0]!.params.max_temp).toBe(45);
    const bad = await api<{ message: string }>(`/api/runs?filter=${encodeURIComponent("params.max_temp = '1'); drop table runs; --")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('unexpected character ";"');
    const r = await runJson(['run', 'weather/pipeline.yaml', '--set', 'params.max_temp=20'], { cwd: ws.dir, env });
    expect(r.code, r.stderr).toBe(0);
    await expect.poll(async () => (await api<RunsResponse>('/api/runs')).body.total, { timeout: 60_000, interval: 200 }).toBe(3);
    expect((await api<RunsResponse>('/api/runs?sort=params.max_temp&dir=asc&limit=1')).body.runs[0]!.id).toBe(r.json.runId);
  });
});
