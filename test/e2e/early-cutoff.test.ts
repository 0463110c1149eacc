import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// clean ──┬── monthly ──┬── summary      (pipelines/weather)
//         └── extremes ─┘
// The coldest reading is -7.4 °C: a min_temp below it changes clean's command but not its output.
let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace();
  await cp(join(repoRoot, 'pipelines', 'weather'), ws.dir, { recursive: true });
  expect((await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir })).code).toBe(0);
});
afterAll(async () => ws.cleanup());

const below = ['monthly', 'extremes', 'summary'];
const PENDING_LINE = "pending  decided after clean re-runs: restored if clean's outputs come out identical";

describe('early cutoff: the plan printed is the plan that runs', () => {
  it('status and run --dry show the stages below a re-run as pending on it; run then restores them when its outputs came out byte-identical', async () => {
    const set = ['--set', 'params.min_temp=-29'];
    const status = await runJson(['status', 'pipeline.yaml', ...set], { cwd: ws.dir });
    const dry = await runJson(['run', 'pipeline.yaml', '--dry', ...set], { cwd: ws.dir });
    expect(dry.json).toEqual(status.json);
    expect(status.json.schemaVersion).toBe(2);
    expect(status.json.stages.map((s: any) => [s.name, s.action, s.after, s.ifUnchanged, s.reason])).toEqual([
      ['clean', 'run', null, null, 'param min_temp -30 → -29'],
      ...below.map((n) => [n, 'pending', ['clean'], 'restore', "decided after clean re-runs: restored if clean's outputs come out identical"]),
    ]);
    expect(status.json.stages[0].reasons).toEqual([{ kind: 'param', name: 'min_temp', from: -30, to: -29 }]);

    const text = await runCli(['status', 'pipeline.yaml', ...set], { cwd: ws.dir });
    expect(text.stdout).toContain('weather: 1 to run, 3 pending, 0 cached');
    for (const n of below) expect(text.stdout).toMatch(new RegExp(`^  ${n} +${PENDING_LINE.replace(/[()]/g, '\\$&')}$`, 'm'));

    const run = await runJson(['run', 'pipeline.yaml', ...set], { cwd: ws.dir });
    expect(run.code).toBe(0);
    expect(run.json.stages.map((s: any) => [s.name, s.cached, s.reason])).toEqual([
      ['clean', false, 'param min_temp -30 → -29'],
      ...below.map((n) => [n, true, 'restored: upstream outputs identical']),
    ]);
    expect(run.json.stages[1].reasons).toEqual([{ kind: 'upstream-identical', stages: ['clean'] }]);
  });

  it('a pending stage whose upstream outputs did change runs, and run prints the same plan status printed', async () => {
    const set = ['--set', 'params.min_temp=-7'];
    const status = await runCli(['status', 'pipeline.yaml', ...set], { cwd: ws.dir });
    // status prints the plan, then its verdict (stale or up to date, against the lock file when there is one)
    const statusLines = status.stdout.trimEnd().split('\n');
    expect(statusLines.at(-1)).toMatch(/stale|up to date/);
    const planLines = statusLines.slice(0, -1);
    expect(planLines.filter((l) => l.includes(PENDING_LINE))).toHaveLength(3);

    const run = await runCli(['run', 'pipeline.yaml', ...set], { cwd: ws.dir });
    expect(run.code).toBe(0);
    const printed = run.stderr.split('\n').filter((l) => l.includes('plan │ ')).map((l) => l.slice(l.indexOf('plan │ ') + 'plan │ '.length));
    expect(printed).toEqual(planLines);
    for (const n of below) expect(run.stderr).toMatch(new RegExp(`${n}: running \\(upstream clean re-runs\\)`));

    const again = await runJson(['run', 'pipeline.yaml', ...set], { cwd: ws.dir });
    expect(again.json.stages.every((s: any) => s.cached && s.reason === 'restored: identical inputs')).toBe(true);
  });
});
