import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { ageStore } from '../reliability/harness.js';

// One shell stage whose outputs (a file, a folder) and metric depend on params.v / params.n.
const SPEC = `name: meta
params:
  v: one
  n: 1
stages:
  make:
    run:
      - mkdir -p out/dir/sub
      - printf '%s\\n' \${params.v} > out/data.txt
      - printf 'same\\n' > out/dir/a.txt
      - printf '%s\\n' \${params.v} > out/dir/sub/b.txt
      - printf '{"score":%s}' \${params.n} > m.json
    outs: [out/data.txt, out/dir]
    metrics: m.json
`;

let ws: Workspace;
let env: Record<string, string>;
let first: string;
let second: string;
const cli = (...args: string[]) => runCli(args, { cwd: ws.dir, env });
const json = (...args: string[]) => runJson(args, { cwd: ws.dir, env });
const ids = async (...args: string[]) => ((await json('runs', 'list', ...args)).json.runs as { id: string }[]).map((r) => r.id);

describe('run names, tags, notes, soft delete and fetching outputs (runs get)', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': SPEC });
    env = { MLPIPE_RUNS_DIR: ws.path('runs') };
    const a = await json('run', 'pipeline.yaml', '--name', 'first try', '--tag', 'owner=ana', '--tag', 'data=v1=raw');
    expect(a.code, a.stderr).toBe(0);
    const b = await json('run', 'pipeline.yaml', '--set', 'params.v=two', '--set', 'params.n=2', '--tag', 'owner=bo');
    expect(b.code, b.stderr).toBe(0);
    first = a.json.runId;
    second = b.json.runId;
  }, 300_000);
  afterAll(() => ws?.cleanup());

  it('records --name and --tag, lists them, and refuses bad tags before running', async () => {
    const list = await json('runs', 'list');
    const row = list.json.runs.find((r: { id: string }) => r.id === first);
    expect(row).toMatchObject({ name: 'first try', tags: { owner: 'ana', data: 'v1=raw' }, note: null, deletedAt: null });
    expect(list.json.runs.find((r: { id: string }) => r.id === second)).toMatchObject({ name: null, tags: { owner: 'bo' } });
    const text = await cli('runs', 'list');
    expect(text.stdout.split('\n')[0]).toMatch(/^ID +NAME +PIPELINE .* TAGS$/);
    expect(text.stdout).toContain('first try');
    expect(text.stdout).toContain('data=v1=raw owner=ana');
    const bad = await cli('run', 'pipeline.yaml', '--tag', 'no-equals');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid tag "no-equals": there is no "="');
    const reserved = await cli('run', 'pipeline.yaml', '--tag', 'mlpipe.user=x');
    expect(reserved.code).toBe(2);
    expect(await ids()).toEqual([second, first]);
  });

  it('changes tags, notes and names afterwards; the filter and runs show see them', async () => {
    const tagged = await json('runs', 'tag', first, 'stage=prod', 'owner=ana', '--remove', 'data');
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.json).toEqual({ schemaVersion: 1, id: first, name: 'first try', tags: { owner: 'ana', stage: 'prod' }, note: null });
    expect(await ids('--filter', "tags.stage = 'prod'")).toEqual([first]);
    const noted = await json('runs', 'note', first.slice(0, 8), 'lr too high\nsecond line');
    expect(noted.json.note).toBe('lr too high\nsecond line');
    expect(await ids('--filter', "note like '%too high%'")).toEqual([first]);
    expect((await json('runs', 'rename', first, 'baseline')).json.name).toBe('baseline');
    expect(await ids('--filter', "name = 'baseline'")).toEqual([first]);
    const show = await cli('runs', 'show', first);
    expect(show.stdout).toMatch(/ {2}name +baseline\n/);
    expect(show.stdout).toMatch(/ {2}tags +owner=ana stage=prod\n/);
    expect(show.stdout).toContain('note\n  lr too high\n  second line\n');
    const unknown = await cli('runs', 'tag', 'r-nope', 'a=b');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run matches "r-nope"');
    const both = await cli('runs', 'tag', first, 'a=b', '--remove', 'a');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('tag "a" is both set and removed');
  });

  it('shows names and tags in compare runs (table and csv) and report', async () => {
    const table = await cli('compare', 'runs', first, second);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/\n {2}name +baseline *\n/);
    expect(table.stdout).toMatch(/\n {2}tags\.owner +ana +bo\n/);
    expect(table.stdout).toMatch(/\n {2}tags\.stage +prod *\n/);
    const csv = await cli('compare', 'runs', first, second, '--format', 'csv');
    expect(csv.stdout.split('\n')[0]).toBe('run,name,pipeline,status,started,baseline,params.n,params.v,make.score,tags.owner,tags.stage');
    expect(csv.stdout.split('\n')[1]).toMatch(new RegExp(`^${first},baseline,meta,completed,.*,ana,prod$`));
    const report = await json('report', first, second, '--out', ws.path('report.html'));
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(ws.path('report.html'), 'utf8');
    expect(html).toContain('<strong class="run-name">baseline</strong>');
    expect(html).toContain('<code class="tag">owner=ana</code>');
    expect(html).toContain('lr too high');
  });

  it("fetches a run's outputs from the cache, not from the workspace a later run overwrote", async () => {
    expect(readFileSync(ws.path('out/data.txt'), 'utf8')).toBe('two\n');
    const show = await json('runs', 'show', first);
    expect(show.json.outputs.map((o: { ref: string; available: string; files: number }) => [o.ref, o.available, o.files])).toEqual([
      ['make/out/data.txt', 'cache', 1],
      ['make/out/dir', 'cache', 2],
      ['make/m.json', 'cache', 1],
    ]);
    expect((await cli('runs', 'show', first)).stdout).toContain(`fetch one with: mlpipe runs get ${first.slice(0, 8)} make/out/data.txt -o DIR`);

    const file = await json('runs', 'get', first, 'make/out/data.txt', '-o', ws.path('got'));
    expect(file.code, file.stderr).toBe(0);
    expect(readFileSync(ws.path('got/data.txt'), 'utf8')).toBe('one\n');
    expect(file.json.written).toEqual([expect.objectContaining({ output: 'out/data.txt', inside: null, path: ws.path('got/data.txt'), type: 'file', from: 'cache' })]);
    const sub = await json('runs', 'get', first, 'make/out/dir/sub', '-o', ws.path('got'));
    expect(sub.code, sub.stderr).toBe(0);
    expect(readFileSync(ws.path('got/sub/b.txt'), 'utf8')).toBe('one\n');
    const whole = await json('runs', 'get', first, 'make', '-o', ws.path('all'));
    expect(whole.code, whole.stderr).toBe(0);
    expect(readFileSync(ws.path('all/out/dir/sub/b.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(ws.path('all/out/dir/a.txt'), 'utf8')).toBe('same\n');
    expect(JSON.parse(readFileSync(ws.path('all/m.json'), 'utf8'))).toEqual({ score: 1 });

    const again = await cli('runs', 'get', first, 'make/out/data.txt', '-o', ws.path('got'));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${ws.path('got/data.txt')} already exists; runs get does not overwrite`);
    expect((await cli('runs', 'get', second, 'make/out/data.txt', '-o', ws.path('got'), '--force')).code).toBe(0);
    expect(readFileSync(ws.path('got/data.txt'), 'utf8')).toBe('two\n');

    const noStage = await cli('runs', 'get', first, 'train/model', '-o', ws.path('x'));
    expect(noStage.code).toBe(2);
    expect(noStage.stderr).toContain(`run ${first} has no stage "train"; its stages: make`);
    const noOutput = await cli('runs', 'get', first, 'make/model', '-o', ws.path('x'));
    expect(noOutput.stderr).toContain(`stage make of run ${first} has no output "model"; its outputs: out/data.txt, out/dir, m.json`);
    const noPath = await cli('runs', 'get', first, 'make/out/dir/nope.txt', '-o', ws.path('x'));
    expect(noPath.stderr).toContain('output out/dir of stage make');
    expect(noPath.stderr).toContain('has no file or folder "nope.txt"; it holds a.txt, sub/b.txt');
    const noRun = await cli('runs', 'get', 'r-nope', 'make', '-o', ws.path('x'));
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain('no run matches "r-nope"');
    expect(existsSync(ws.path('x'))).toBe(false);
  });

  it('deletes runs softly: hidden from list and compare, gc frees what only they used, --pull brings it back, restore undoes it', async () => {
    mkdirSync(ws.path('remote'));
    expect((await cli('remote', 'add', 'origin', ws.path('remote'))).code).toBe(0);
    const pushed = await json('push', '--run', first);
    expect(pushed.code, pushed.stderr).toBe(0);

    const del = await json('runs', 'delete', first);
    expect(del.code, del.stderr).toBe(0);
    expect(del.json).toEqual({ schemaVersion: 1, changed: [{ id: first, pipeline: 'meta', name: 'baseline' }], unchanged: [] });
    expect(await ids()).toEqual([second]);
    expect(await ids('--deleted')).toEqual([second, first]);
    expect(await ids('--deleted', '--filter', 'deleted_at is not null')).toEqual([first]);
    expect((await cli('runs', 'list', '--deleted')).stdout).toMatch(/completed \(deleted\)/);
    expect((await json('compare', 'runs', '--last', '5')).json.runs.map((r: { id: string }) => r.id)).toEqual([second]);
    expect((await json('runs', 'show', first)).json.run.deletedAt).toEqual(expect.any(Number));

    ageStore(ws.path('runs'), 3_600_000);
    const gc = await json('gc');
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.json).toMatchObject({ runs: { total: 2, kept: 1, deleted: 1 }, manifests: { removed: 1, kept: 1 } });
    expect(gc.json.objects.removed).toBeGreaterThanOrEqual(2);
    expect((await json('runs', 'show', first)).json.outputs.map((o: { available: string }) => o.available)).toEqual(['missing', 'missing', 'missing']);

    const gone = await cli('runs', 'get', first, 'make/out/data.txt', '-o', ws.path('later'));
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`the cache entry of stage make (run ${first}`);
    expect(gone.stderr).toContain('is gone from the local cache (mlpipe gc removed it, or the run was made on another machine)');
    expect(gone.stderr).toContain(`--pull`);
    const pulled = await json('runs', 'get', first, 'make/out/data.txt', '-o', ws.path('later'), '--pull');
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(ws.path('later/data.txt'), 'utf8')).toBe('one\n');

    writeFileSync(ws.path('mlpipe.yaml'), '');
    const noRemote = await cli('runs', 'get', second, 'make', '-o', ws.path('y'), '--pull');
    expect(noRemote.code).toBe(2);
    expect(noRemote.stderr).toContain('no remote cache is set');

    const restored = await json('runs', 'restore', first, second);
    expect(restored.json).toEqual({ schemaVersion: 1, changed: [{ id: first, pipeline: 'meta', name: 'baseline' }], unchanged: [second] });
    expect(await ids()).toEqual([second, first]);
  });
});
