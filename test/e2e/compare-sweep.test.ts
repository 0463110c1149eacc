import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// prep ── score(factor, BONUS)     score = 10 · factor + BONUS; a negative factor fails the stage
const files = {
  'pipeline.yaml': `name: gridded
params:
  factor: 1
stages:
  prep:
    run: mkdir -p out && echo 10 > out/base.txt
    outs: [out/base.txt]
  score:
    run: node score.mjs \${stages.prep.outputs.out/base.txt} \${params.factor}
    env: { BONUS: "0" }
    deps: [score.mjs]
    outs: [out/score.json]
    metrics: out/score.json
`,
  'score.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
const [base, factor] = process.argv.slice(2);
if (Number(factor) < 0) { console.error('negative factor'); process.exit(1); }
writeFileSync('out/score.json', JSON.stringify({ score: Number(readFileSync(base, 'utf8')) * Number(factor) + Number(process.env.BONUS) }));
`,
};

let ws: Workspace;
let sweepId: string;
let other: string;
beforeAll(async () => {
  ws = await makeWorkspace(files);
  const first = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.factor=2,-1,1', '--sweep', 'score.env.BONUS=0,5', '--jobs', '2'], { cwd: ws.dir });
  expect(first.code, first.stderr).toBe(1);
  sweepId = first.json.sweepId;
  const second = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.factor=3,4', '--jobs', '2'], { cwd: ws.dir });
  expect(second.code, second.stderr).toBe(0);
  other = second.json.sweepId;
}, 120_000);
afterAll(async () => ws.cleanup());

describe('mlpipe compare runs --sweep / --last-sweep over a real sweep', () => {
  it('shows the grid of swept params and stage keys with the best point marked', async () => {
    const r = await runCli(['compare', 'runs', '--sweep', sweepId.slice(2, 7)], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^sweep ${sweepId} of gridded: 6 points, 2 failed; best by score\\.score \\(higher is better\\): r-\\w+ \\(params\\.factor=2, score\\.env\\.BONUS=5\\) = 25$`));
    expect(lines[2]).toMatch(/^ {2}params\.factor\s+score\.env\.BONUS\s+run\s+status\s+score\.score$/);
    expect(lines.slice(3, 9).map((l) => l.replace(/r-\w+/, 'RUN').split(/\s{2,}/).filter(Boolean))).toEqual([
      ['-1', 'RUN', 'failed'],
      ['-1', 'RUN', 'failed'],
      ['1', '0', 'RUN', 'completed', '10'],
      ['1', '5', 'RUN', 'completed', '15'],
      ['2', '0', 'RUN', 'completed', '20'],
      ['2', '5', 'RUN', 'completed', '25 ★'],
    ]);
    expect(r.stdout).toMatch(/params\.factor ↓ score\.env\.BONUS →\s+0\s+5\n\s+-1\s*\n\s+1\s+10\s+15\n\s+2\s+20\s+25 ★\n/);
  });

  it('--last-sweep takes the newest sweep; --json carries the grid', async () => {
    const { code, json } = await runJson(['compare', 'runs', '--last-sweep'], { cwd: ws.dir });
    expect(code).toBe(0);
    expect(json.sweep.sweepId).toBe(other);
    expect(json.sweep.axes).toEqual([{ name: 'params.factor', values: [3, 4] }]);
    expect(json.sweep.points.map((p: any) => [p.settings['params.factor'], p.value, p.best])).toEqual([
      [3, 30, false],
      [4, 40, true],
    ]);
    expect(json.runs.map((r: any) => r.id).sort()).toEqual(json.sweep.points.map((p: any) => p.run).sort());
  });

  it('--format csv and markdown render the sweep; --fail-if still gates', async () => {
    const csv = await runCli(['compare', 'runs', '--sweep', other, '--format', 'csv'], { cwd: ws.dir });
    expect(csv.stdout.split('\n')[0]).toBe('run,status,best,params.factor,score.score');
    const md = await runCli(['compare', 'runs', '--sweep', other, '--format', 'markdown', '--fail-if', 'score < baseline'], { cwd: ws.dir });
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/\| 4 \| r-\w+ \| \*\*40 ★\*\* \|/);
    const gated = await runCli(['compare', 'runs', '--sweep', other, '--fail-if', 'score > baseline'], { cwd: ws.dir });
    expect(gated.code).toBe(3);
    expect(gated.stderr).toMatch(/fail-if score > baseline holds for r-\w+: score = 40, baseline\.score = 30/);
  });

  it('exits 2 for an unknown sweep, listing the recent ones, and for a sweep mixed with --last', async () => {
    const unknown = await runCli(['compare', 'runs', '--sweep', 's-zzzz'], { cwd: ws.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no sweep matches "s-zzzz"; recent sweeps: ${other} (gridded, 2 runs`);
    const mixed = await runCli(['compare', 'runs', '--last-sweep', '--last', '2'], { cwd: ws.dir });
    expect(mixed.code).toBe(2);
  });
});
