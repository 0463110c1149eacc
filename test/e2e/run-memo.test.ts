import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// The fast path of a no-op `mlpipe run PIPELINE` (src/cli/fast-run.ts): after a full no-op run wrote
// its memo, the next one is served from it — the same output and tracker rows — and any change to
// what the run depends on takes the full path again, which does the right thing.

const files: Record<string, string> = {
  'pipeline.yaml': `name: memo
params:
  factor: 2
stages:
  a:
    run: tr a-z A-Z < in.txt > out/a.txt
    deps: [in.txt]
    outs: [out/a.txt]
  b:
    run: cat \${stages.a.outputs.out/a.txt} > out/b.txt && echo \${params.factor} >> out/b.txt
    outs: [out/b.txt]
`,
  'in.txt': 'hello\n',
  'out/.keep': '',
};

let ws: Workspace;
afterEach(async () => ws?.cleanup());

const fastLog = () => ws.path('fast-runs.log');
const run = (env: Record<string, string> = {}) => runCli(['run', 'pipeline.yaml'], { cwd: ws.dir, env: { MLPIPE_FAST_RUN_LOG: fastLog(), ...env } });
const served = async () => (existsSync(fastLog()) ? (await readFile(fastLog(), 'utf8')).split('\n').filter(Boolean) : []);

/** Every file of the workspace (and its runs folder but the tracker) ten seconds older: past the memo's racy window. */
async function age(dir = ws.dir): Promise<void> {
  const past = new Date(Date.now() - 10_000);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await age(path);
    else if (entry.isFile() && !entry.name.startsWith('tracker.db')) await utimes(path, past, past);
  }
}

/** A workspace after a first run and a full no-op run (which wrote the memo). */
async function memoised(env: Record<string, string> = {}): Promise<string> {
  ws = await makeWorkspace(files);
  expect((await run(env)).code).toBe(0);
  await age();
  const noop = await run(env);
  expect(noop.code).toBe(0);
  expect(await served()).toEqual([]);
  expect(await readdir(ws.path('runs/cache/run-memo'))).toHaveLength(1);
  return noop.stderr;
}

const runIdOf = (stderr: string) => /run (r-[0-9a-f]{12}) completed/.exec(stderr)![1]!;
const normalise = (stderr: string) => stderr.replace(/\[\d\d:\d\d:\d\d\]/g, '[T]').replace(/r-[0-9a-f]{12}/g, 'RUN').replace(/completed in [\d.]+m?s/g, 'completed in D');

function rowsOf(runId: string): Record<string, unknown[]> {
  const db = new Database(ws.path('runs/tracker.db'), { readonly: true });
  try {
    const strip = (row: Record<string, unknown>) => {
      const { id, run_id, pid, started_at, ended_at, heartbeat_at, duration_ms, ...rest } = row;
      return rest;
    };
    return {
      runs: db.prepare('SELECT * FROM runs WHERE id = ?').all(runId).map((r) => strip(r as Record<string, unknown>)),
      stage_runs: db.prepare('SELECT * FROM stage_runs WHERE run_id = ? ORDER BY stage').all(runId).map((r) => strip(r as Record<string, unknown>)),
      artifacts: db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY stage, name').all(runId).map((r) => strip(r as Record<string, unknown>)),
    };
  } finally {
    db.close();
  }
}

describe('mlpipe run PIPELINE from the no-op memo', () => {
  it('prints the same lines and records the same rows as the full no-op run', async () => {
    const full = await memoised();
    const fast = await run();
    expect(fast.code).toBe(0);
    const fastId = runIdOf(fast.stderr);
    expect(await served()).toEqual([fastId]);
    expect(normalise(fast.stderr)).toBe(normalise(full));
    expect(fast.stdout).toBe('');
    const fullId = runIdOf(full);
    expect(rowsOf(fastId)).toEqual(rowsOf(fullId));
    expect(rowsOf(fastId).stage_runs).toHaveLength(2);
    const db = new Database(ws.path('runs/tracker.db'), { readonly: true });
    const row = db.prepare('SELECT status, started_at, ended_at, pid FROM runs WHERE id = ?').get(fastId) as { status: string; started_at: number; ended_at: number; pid: number };
    db.close();
    expect(row.status).toBe('completed');
    expect(row.ended_at).toBeGreaterThanOrEqual(row.started_at);
    expect(await readlink(ws.path('runs/latest'))).toBe(fastId);
    expect((await readdir(ws.path(`runs/${fastId}`))).sort()).toEqual((await readdir(ws.path(`runs/${fullId}`))).sort());
    // runs list sees it as any other run.
    const listed = await runCli(['runs', 'list', '--json'], { cwd: ws.dir });
    expect(JSON.parse(listed.stdout).runs.map((r: { id: string }) => r.id)).toContain(fastId);
  });

  const changes: { what: string; change: () => Promise<void>; env?: Record<string, string>; check: (stderr: string) => Promise<void> | void }[] = [
    { what: 'a touched input', change: async () => utimes(ws.path('in.txt'), new Date(), new Date()), check: (e) => expect(e).toContain('0 ran, 2 cached') },
    {
      what: 'an edited input',
      change: async () => writeFile(ws.path('in.txt'), 'bye\n'),
      check: async (e) => {
        expect(e).toContain('2 ran, 0 cached');
        expect(await readFile(ws.path('out/b.txt'), 'utf8')).toBe('BYE\n2\n');
      },
    },
    {
      what: 'a changed param in the pipeline file',
      change: async () => writeFile(ws.path('pipeline.yaml'), files['pipeline.yaml']!.replace('factor: 2', 'factor: 3')),
      check: async (e) => {
        expect(e).toContain('1 ran, 1 cached');
        expect(await readFile(ws.path('out/b.txt'), 'utf8')).toBe('HELLO\n3\n');
      },
    },
    {
      what: 'a deleted output',
      change: async () => rm(ws.path('out/b.txt')),
      check: async (e) => {
        expect(e).toContain('0 ran, 2 cached');
        expect(await readFile(ws.path('out/b.txt'), 'utf8')).toBe('HELLO\n2\n');
      },
    },
    { what: 'another environment', change: async () => {}, env: { MLPIPE_JOBS: '1' }, check: (e) => expect(e).toContain('0 ran, 2 cached') },
    { what: 'a new mlpipe.yaml', change: async () => writeFile(ws.path('mlpipe.yaml'), 'autopush: false\n'), check: (e) => expect(e).toContain('0 ran, 2 cached') },
    {
      what: 'a run left marked running by a killed process',
      change: async () => {
        const db = new Database(ws.path('runs/tracker.db'));
        db.prepare("UPDATE runs SET status = 'running', ended_at = NULL, pid = 999999999 WHERE id = (SELECT id FROM runs ORDER BY started_at LIMIT 1)").run();
        db.close();
      },
      check: () => {
        const db = new Database(ws.path('runs/tracker.db'), { readonly: true });
        const statuses = db.prepare('SELECT status FROM runs').all() as { status: string }[];
        db.close();
        expect(statuses.map((s) => s.status)).not.toContain('running');
      },
    },
  ];

  it.each(changes)('takes the full path after $what, and runs what that needs', async ({ change, env, check }) => {
    await memoised();
    await change();
    const after = await run(env);
    expect(after.code).toBe(0);
    expect(await served()).toEqual([]);
    await check(after.stderr);
  });

  it('is served again once a full no-op run after a change wrote a new memo', async () => {
    await memoised();
    await writeFile(ws.path('in.txt'), 'bye\n');
    expect((await run()).stderr).toContain('2 ran');
    await age();
    expect((await run()).stderr).toContain('0 ran, 2 cached');
    expect(await served()).toEqual([]);
    const fast = await run();
    expect(await served()).toEqual([runIdOf(fast.stderr)]);
    expect(await readFile(ws.path('out/b.txt'), 'utf8')).toBe('BYE\n2\n');
  });

  it('is kept by gc while it holds, and removed once what it describes changed', async () => {
    await memoised();
    const dir = ws.path('runs/cache/run-memo');
    const [name] = await readdir(dir);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, name!), old, old);
    expect((await runJson(['gc', '--dry'], { cwd: ws.dir })).json.runMemos).toEqual({ kept: 1, removed: 0 });
    await writeFile(ws.path('in.txt'), 'bye\n');
    expect((await runJson(['gc', '--dry'], { cwd: ws.dir })).json.runMemos).toEqual({ kept: 0, removed: 1 });
    expect(await readdir(dir)).toEqual([name]);
    const gc = await runCli(['gc'], { cwd: ws.dir });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toContain('no-op run memos that no longer hold: removed 1, kept 0');
    expect(await readdir(dir)).toEqual([]);
  });
});
