import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// A shell stage whose metric is computed from its params: score.value = x / 10, score.twice = 2x.
const SPEC = `name: search
params:
  x: 1
  opt: adam
stages:
  score:
    run: node score.mjs \${params.x} \${params.opt}
    deps: [score.mjs]
    outs: [m.json]
    metrics: m.json
`;
const SCRIPT = "import { writeFileSync } from 'node:fs';\nconst x = Number(process.argv[2]);\nwriteFileSync('m.json', JSON.stringify({ value: x / 10, twice: 2 * x }));\n";

let ws: Workspace;
let env: Record<string, string>;
let byX: Map<number, string>;

const list = async (...args: string[]) => {
  const r = await runJson(['runs', 'list', ...args], { cwd: ws.dir, env });
  return { ...r, ids: (r.json?.runs ?? []).map((x: { id: string }) => x.id) as string[] };
};

describe('runs list --filter / --order-by / --columns, compare and report --filter', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'score.mjs': SCRIPT });
    env = { MLPIPE_RUNS_DIR: ws.path('runs') };
    const sweep = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.x=1,2,3,4', '--set', 'params.opt=sgd', '--jobs', '1'], { cwd: ws.dir, env });
    expect(sweep.code, sweep.stderr).toBe(0);
    const single = await runJson(['run', 'pipeline.yaml', '--set', 'params.x=5'], { cwd: ws.dir, env });
    expect(single.code, single.stderr).toBe(0);
    byX = new Map([...sweep.json.points.map((p: { runId: string }, i: number) => [i + 1, p.runId] as const), [5, single.json.runId]]);
    // Tags through the tracker (as `runs tag` writes them).
    const t = await openTracker(ws.path('runs'));
    await t.setRunTags(byX.get(2)!, { owner: 'ana' });
    await t.setRunTags(byX.get(5)!, { owner: "x' or '1'='1" });
    await t.close();
  }, 240_000);
  afterAll(() => ws?.cleanup());

  it('selects runs with the filter language, run as SQL by the tracker', async () => {
    const r = await list('--filter', "params.x < 4 and (metrics.score.value >= 0.3 or tags.owner = 'ana')");
    expect(r.code, r.stderr).toBe(0);
    expect(r.ids).toEqual([byX.get(3), byX.get(2)]);
    expect(r.json.total).toBe(2);
    const row = r.json.runs[0];
    expect(row.params).toEqual({ x: 3, opt: 'sgd' });
    expect(row.metrics).toEqual({ 'score.value': 0.3, 'score.twice': 6 });
    expect(row.tags).toEqual({});
    expect((await list('--filter', "params.opt in ('adam') or params.x = 1")).ids).toEqual([byX.get(5), byX.get(1)]);
    expect((await list('--filter', "pipeline like 'SEA%' and sweep is null")).ids).toEqual([byX.get(5)]);
    expect((await list('--search', 'ana')).ids).toEqual([byX.get(2)]);
  });

  it('orders, pages and shows the columns asked for', async () => {
    const desc = await list('--order-by', 'metrics.score.value desc', '--limit', '2', '--offset', '1');
    expect(desc.ids).toEqual([byX.get(4), byX.get(3)]);
    expect(desc.json.total).toBe(5);
    const table = await runCli(['runs', 'list', '--order-by', 'params.x', '--columns', 'id,params.x,metrics.score.twice,tags.owner', '--limit', '3'], { cwd: ws.dir, env });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['ID', 'x', 'score.twice', 'tags.owner']);
    expect(lines.slice(1, 4).map((l) => l.trim().split(/\s+/).slice(1, 3))).toEqual([['1', '2'], ['2', '4'], ['3', '6']]);
    expect(lines[2]).toContain('ana');
    expect(table.stdout).toContain('3 of 5 runs shown; --offset 3 for more');
  });

  it('matches hostile strings literally', async () => {
    expect((await list('--filter', "tags.owner = 'x'' or ''1''=''1'")).ids).toEqual([byX.get(5)]);
    expect((await list('--filter', `pipeline = "x' or '1'='1"`)).ids).toEqual([]);
    expect((await list('--filter', `pipeline = "search"" or 1=1 --"`)).ids).toEqual([]);
    expect((await list('--filter', "pipeline = 'search'; drop table runs; --'")).code).toBe(2);
    expect((await list()).ids).toHaveLength(5);
  });

  it('refuses a filter it cannot read with exit 2, the column and a hint', async () => {
    const typo = await runCli(['runs', 'list', '--filter', 'params.xx > 1'], { cwd: ws.dir, env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('no run has the param "params.xx"; did you mean "params.x"');
    const syntax = await runCli(['runs', 'list', '--filter', 'params.x >'], { cwd: ws.dir, env });
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('at column 11');
    expect(syntax.stderr).not.toMatch(/at .*\.js:\d+/);
    expect((await runCli(['runs', 'list', '--columns', 'id,bogus'], { cwd: ws.dir, env })).stderr).toContain('unknown column "bogus"');
  });

  it('selects the runs of compare runs and report with the same filter', async () => {
    const cmp = await runJson(['compare', 'runs', '--filter', 'metrics.score.value >= 0.3'], { cwd: ws.dir, env });
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.json.runs.map((r: { id: string }) => r.id)).toEqual([byX.get(3), byX.get(4), byX.get(5)]);
    const rep = await runJson(['report', '--filter', 'params.x <= 2', '--out', 'r.html'], { cwd: ws.dir, env });
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.json.runs.map((r: { id: string }) => r.id ?? r)).toEqual([byX.get(1), byX.get(2)]);
    const none = await runCli(['compare', 'runs', '--filter', 'metrics.score.value > 100'], { cwd: ws.dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no run matches --filter');
  });
});
