import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// prep ── score(factor)      a sweep over factor shares prep
const files = {
  'pipeline.yaml': `name: sweepy
params:
  factor: 1
stages:
  prep:
    run: echo prep >> "$MLPIPE_TEST_CALLS" && mkdir -p out && echo 10 > out/base.txt
    outs: [out/base.txt]
  score:
    run: echo score >> "$MLPIPE_TEST_CALLS" && node score.mjs \${stages.prep.outputs.out/base.txt} \${params.factor}
    deps: [score.mjs]
    outs: [out/score.json]
    metrics: out/score.json
`,
  'score.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
const [base, factor] = process.argv.slice(2);
if (Number(factor) < 0) { console.error('negative factor'); process.exit(1); }
writeFileSync('out/score.json', JSON.stringify({ score: Number(readFileSync(base, 'utf8')) * Number(factor) }));
`,
};

// Sweep points run in temporary workspaces: the commands count their calls in a file outside it.
let ws: Workspace;
let env: Record<string, string>;
beforeAll(async () => {
  ws = await makeWorkspace(files);
  env = { MLPIPE_TEST_CALLS: join(ws.dir, '..', `${basename(ws.dir)}-calls.log`) };
});
afterAll(async () => {
  await ws.cleanup();
  await rm(env.MLPIPE_TEST_CALLS, { force: true });
});

describe('mlpipe run --sweep', () => {
  it('runs the grid as runs under one sweep id, sharing the upstream stage', async () => {
    const { code, json } = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.factor=1,2,range(3,4)', '--jobs', '2'], { cwd: ws.dir, env });
    expect(code).toBe(0);
    expect(json.sweepId).toMatch(/^s-[0-9a-f]{8}$/);
    expect(json.points.map((p: any) => [p.set, p.status, p.metrics['score.score']])).toEqual([
      [['params.factor=1'], 'completed', 10],
      [['params.factor=2'], 'completed', 20],
      [['params.factor=3'], 'completed', 30],
      [['params.factor=4'], 'completed', 40],
    ]);
    const calls = (await readFile(env.MLPIPE_TEST_CALLS, 'utf8')).trim().split('\n');
    expect(calls.filter((c) => c === 'prep')).toHaveLength(1);
    expect(calls.filter((c) => c === 'score')).toHaveLength(4);
    const db = new Database(join(ws.dir, 'runs', 'tracker.db'), { readonly: true });
    const rows = db.prepare('select id from runs where sweep_id = ?').all(json.sweepId);
    db.close();
    expect(rows).toHaveLength(4);
  });

  it('--dry plans every point and runs nothing: no stage, no run recorded', async () => {
    const calls = await readFile(env.MLPIPE_TEST_CALLS, 'utf8');
    const runsCount = () => {
      const db = new Database(join(ws.dir, 'runs', 'tracker.db'), { readonly: true });
      const n = (db.prepare('select count(*) as n from runs').get() as { n: number }).n;
      db.close();
      return n;
    };
    const before = runsCount();
    const { code, json } = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.factor=2,9', '--dry'], { cwd: ws.dir, env });
    expect(code).toBe(0);
    expect(json.points.map((p: any) => [p.set, p.stages.map((s: any) => `${s.name}:${s.action}`)])).toEqual([
      [['params.factor=2'], ['prep:restore', 'score:restore']],
      [['params.factor=9'], ['prep:restore', 'score:run']],
    ]);
    const text = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.factor=2,9', '--dry'], { cwd: ws.dir, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('sweep of 2 point(s), nothing run');
    expect(text.stdout).toMatch(/\[params\.factor=9\]\nsweepy: 1 to run, 1 cached\n/);
    expect(await readFile(env.MLPIPE_TEST_CALLS, 'utf8')).toBe(calls);
    expect(runsCount()).toBe(before);
  });

  it('lets the other points finish when one fails, and says how many failed', async () => {
    const r = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.factor=-1,5'], { cwd: ws.dir, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 points, 1 failed');
    expect(r.stdout).toMatch(/params\.factor=5\s+r-[0-9a-f]+\s+completed\s+50/);
  });

  it('refuses a malformed sweep before running anything', async () => {
    const r = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.factor'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected --sweep KEY=V1,V2,…, got "params.factor"');
  });
});
