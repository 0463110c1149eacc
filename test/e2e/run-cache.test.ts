import { afterEach, describe, expect, it } from 'vitest';
import { readFile, rm, utimes, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Each test builds its own workspace (a chain a → b, and c beside them) in the state it needs:
// fresh, or after one first run (ranOnce). Any test runs alone: vitest run -t 'NAME'.

const script = (name: string, body: string) =>
  `import { appendFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';\nappendFileSync('calls.log', '${name}\\n');\nmkdirSync('out', { recursive: true });\n${body}\n`;

const files: Record<string, string> = {
  'pipeline.yaml': `name: chain
params:
  factor: 2
  unused: 1
stages:
  a:
    run: node a.mjs
    deps: [a.mjs, in.txt]
    outs: [out/a.txt]
  b:
    run: node b.mjs \${stages.a.outputs.out/a.txt} \${params.factor}
    deps: [b.mjs]
    outs: [out/b.txt]
    metrics: out/b.json
  c:
    run: node c.mjs
    deps: [c.mjs, other.txt]
    outs: [out/c.txt]
`,
  'in.txt': 'hello world\n',
  'other.txt': 'x\n',
  'a.mjs': script('a', `writeFileSync('out/a.txt', readFileSync('in.txt', 'utf8').toUpperCase());`),
  'b.mjs': script(
    'b',
    `const [src, factor] = process.argv.slice(2);
const text = readFileSync(src, 'utf8');
writeFileSync('out/b.txt', text.repeat(Number(factor)));
writeFileSync('out/b.json', JSON.stringify({ length: text.length * Number(factor), nested: { factor: Number(factor) } }));
console.log('b wrote', text.length * Number(factor), 'chars');`,
  ),
  'c.mjs': script('c', `writeFileSync('out/c.txt', readFileSync('other.txt', 'utf8') + (process.env.FAIL ? '' : 'ok'));\nif (process.env.FAIL_C) { console.log('about to fail'); console.error('boom: c cannot go on'); process.exit(7); }`),
};

const workspaces: Workspace[] = [];
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((ws) => ws.cleanup()));
});

/** The chain pipeline in a workspace of its own, with what a test does there. */
async function chain() {
  const ws = await makeWorkspace(files);
  workspaces.push(ws);
  return {
    ws,
    run: (...args: string[]) => runJson(['run', 'pipeline.yaml', ...args], { cwd: ws.dir }),
    status: (...args: string[]) => runJson(['status', 'pipeline.yaml', ...args], { cwd: ws.dir }),
    /** The stages whose command ran since the last call, sorted. */
    calls: async () => {
      const text = existsSync(ws.path('calls.log')) ? await readFile(ws.path('calls.log'), 'utf8') : '';
      await rm(ws.path('calls.log'), { force: true });
      return text.trim().split('\n').filter(Boolean).sort();
    },
  };
}

/** The chain after a first run of every stage; `first` is that run's summary. */
async function ranOnce() {
  const c = await chain();
  const { code, json, stderr } = await c.run();
  expect(code, stderr).toBe(0);
  await c.calls();
  return { ...c, first: json };
}

const byName = (summary: any) => Object.fromEntries(summary.stages.map((s: any) => [s.name, s]));

describe('mlpipe run caching (shell stages)', () => {
  it('runs every stage the first time and records the run', async () => {
    const c = await chain();
    const { code, json } = await c.run();
    expect(code).toBe(0);
    expect(json.schemaVersion).toBe(1);
    expect(json.status).toBe('completed');
    expect(json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['a', 'completed', false],
      ['b', 'completed', false],
      ['c', 'completed', false],
    ]);
    expect(json.metrics).toMatchObject({ 'b.length': 24, 'b.nested.factor': 2 });
    expect(await c.calls()).toEqual(['a', 'b', 'c']);
    expect(await readFile(c.ws.path('out/b.txt'), 'utf8')).toBe('HELLO WORLD\nHELLO WORLD\n');
    const db = new Database(c.ws.path('runs/tracker.db'), { readonly: true });
    const row = db.prepare('select * from runs where id = ?').get(json.runId) as any;
    expect(row.status).toBe('completed');
    expect(row.pipeline).toBe('chain');
    const stageRows = db.prepare('select stage, status, cached_from from stage_runs where run_id = ? order by stage').all(json.runId);
    expect(stageRows).toEqual([
      { stage: 'a', status: 'completed', cached_from: null },
      { stage: 'b', status: 'completed', cached_from: null },
      { stage: 'c', status: 'completed', cached_from: null },
    ]);
    const metric = db.prepare("select value from metrics where run_id = ? and stage = 'b' and key = 'length'").get(json.runId) as any;
    expect(metric.value).toBe(24);
    db.close();
  });

  it('runs nothing on an unchanged second run and reports every stage cached', async () => {
    const c = await ranOnce();
    const { code, json } = await c.run();
    expect(code).toBe(0);
    expect(json.stages.every((s: any) => s.cached && s.cachedFrom === c.first.runId)).toBe(true);
    expect(json.metrics).toEqual(c.first.metrics);
    expect(await c.calls()).toEqual([]);
    const db = new Database(c.ws.path('runs/tracker.db'), { readonly: true });
    const rows = db.prepare('select cached_from from stage_runs where run_id = ?').all(json.runId) as any[];
    expect(rows.every((r) => r.cached_from === c.first.runId)).toBe(true);
    db.close();
  });

  it('keeps everything cached when an input is touched without changing its bytes', async () => {
    const c = await ranOnce();
    const later = new Date(Date.now() + 5000);
    await utimes(c.ws.path('in.txt'), later, later);
    const { json } = await c.run();
    expect(json.stages.every((s: any) => s.cached)).toBe(true);
    expect(await c.calls()).toEqual([]);
  });

  it('re-runs the changed stage and its descendants after a one-byte change, nothing else', async () => {
    const c = await ranOnce();
    await writeFile(c.ws.path('in.txt'), 'hello worle\n');
    const status = await c.status();
    const a = status.json.stages.find((s: any) => s.name === 'a');
    expect(a.action).toBe('run');
    expect(a.reason).toMatch(/^input in\.txt changed \([0-9a-f]{4}… → [0-9a-f]{4}…\)$/);
    expect(a.reasons).toEqual([{ kind: 'input-changed', path: 'in.txt', from: expect.any(String), to: expect.any(String) }]);
    const b = status.json.stages.find((s: any) => s.name === 'b');
    expect([b.action, b.after, b.ifUnchanged, b.reason]).toEqual(['pending', ['a'], 'restore', "decided after a re-runs: restored if a's outputs come out identical"]);
    const { json } = await c.run();
    const s = byName(json);
    expect([s.a.cached, s.b.cached, s.c.cached]).toEqual([false, false, true]);
    expect(await c.calls()).toEqual(['a', 'b']);
  });

  it('re-runs only the stages that use a changed param', async () => {
    const c = await ranOnce();
    const status = await c.status('--set', 'params.factor=3');
    expect(status.json.stages.find((s: any) => s.name === 'b').reason).toBe('param factor 2 → 3');
    const { json } = await c.run('--set', 'params.factor=3');
    const s = byName(json);
    expect([s.a.cached, s.b.cached, s.c.cached]).toEqual([true, false, true]);
    expect(s.b.reason).toBe('param factor 2 → 3');
    expect(await c.calls()).toEqual(['b']);
    expect(json.params.factor).toBe(3);
  });

  it('restores byte-identical outputs when a change is reverted (run-cache)', async () => {
    const c = await ranOnce();
    const firstB = await readFile(c.ws.path('out/b.txt'), 'utf8');
    await writeFile(c.ws.path('in.txt'), 'hello worle\n');
    expect((await c.run()).code).toBe(0);
    expect(await c.calls()).toEqual(['a', 'b']);
    await writeFile(c.ws.path('in.txt'), 'hello world\n');
    const { json } = await c.run();
    expect(json.stages.every((s: any) => s.cached)).toBe(true);
    expect(byName(json).b.cachedFrom).toBe(c.first.runId);
    expect(await c.calls()).toEqual([]);
    expect(await readFile(c.ws.path('out/b.txt'), 'utf8')).toBe(firstB);
  });

  it('survives a deleted output folder of an earlier run', async () => {
    const c = await ranOnce();
    const firstB = await readFile(c.ws.path('out/b.txt'), 'utf8');
    await rm(c.ws.path(`runs/${c.first.runId}`), { recursive: true, force: true });
    await rm(c.ws.path('out'), { recursive: true, force: true });
    const { code, json } = await c.run();
    expect(code).toBe(0);
    expect(json.stages.every((s: any) => s.cached)).toBe(true);
    expect(await c.calls()).toEqual([]);
    expect(await readFile(c.ws.path('out/b.txt'), 'utf8')).toBe(firstB);
  });

  it('runs only a stage and what it needs with --stage, and everything with --force', async () => {
    const c = await ranOnce();
    const only = await c.run('--stage', 'b', '--force');
    expect(only.json.stages.map((s: any) => s.name)).toEqual(['a', 'b']);
    expect(await c.calls()).toEqual(['a', 'b']);
  });

  it('prints the plan and runs nothing with --dry', async () => {
    const c = await ranOnce();
    const r = await runCli(['run', 'pipeline.yaml', '--dry', '--force'], { cwd: c.ws.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('chain: 3 to run, 0 cached');
    expect(r.stdout).toMatch(/a\s+run\s+forced \(--force\)/);
    expect(await c.calls()).toEqual([]);
  });

  it('fails a stage with its name, exit code and last lines, and lets unrelated stages finish', async () => {
    const c = await ranOnce();
    await writeFile(c.ws.path('other.txt'), 'y\n');
    const r = await runCli(['run', 'pipeline.yaml'], { cwd: c.ws.dir, env: { FAIL_C: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stage c failed: command exited with code 7');
    expect(r.stderr).toContain('boom: c cannot go on');
    expect(r.stderr).toMatch(/a: cached/);
    expect(await c.calls()).toEqual(['c']);
  });

  it('refuses an invalid spec with exit 2 and writes nothing', async () => {
    const bad = await makeWorkspace({ 'pipeline.yaml': 'name: x\nstages:\n  a:\n    run: echo hi\n    outz: [x]\n' });
    workspaces.push(bad);
    const r = await runCli(['run', 'pipeline.yaml'], { cwd: bad.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pipeline.yaml:5:5');
    expect(r.stderr).toContain('outs');
    expect(await readdir(bad.dir)).toEqual(['pipeline.yaml']);
  });
});
