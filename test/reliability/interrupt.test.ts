import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { groupAlive, inspectStore, readTracker, startCli, waitFor } from './harness.js';

// Issue 7.8: Ctrl-C (SIGINT) and SIGTERM reach the running shell command; exit 130; the run is
// marked interrupted; the workspace is left consistent.

let ws: Workspace;
const groups: number[] = [];
afterEach(async () => {
  for (const pgid of groups.splice(0)) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  await ws?.cleanup();
});

// first ── slow     (slow traps the signal, records which one it got, and exits)
const spec = `name: interrupted
stages:
  first:
    run: mkdir -p out && echo first > out/first.txt
    outs: [out/first.txt]
  slow:
    run: sh slow.sh
    deps: [slow.sh]
    needs: [first]
    outs: [out/slow.txt, out/extra]
`;

const slow = `trap 'echo INT > got-signal.txt; exit 130' INT
trap 'echo TERM > got-signal.txt; exit 143' TERM
mkdir -p out/extra
echo partial > out/slow.txt
echo partial > out/extra/a.txt
if [ -n "$FINISH" ]; then echo complete > out/slow.txt; exit 0; fi
cut -d' ' -f5 /proc/$$/stat > started.flag
while true; do sleep 0.05; done
`;

const stubborn = `trap '' INT TERM
mkdir -p out/extra
echo partial > out/slow.txt
cut -d' ' -f5 /proc/$$/stat > started.flag
while true; do sleep 0.05; done
`;

async function startUntilSlowRuns(script: string) {
  ws = await makeWorkspace({ 'pipeline.yaml': spec, 'slow.sh': script });
  const run = startCli(['run', 'pipeline.yaml', '--json'], ws.dir);
  await waitFor('the slow stage to start', () => existsSync(ws.path('started.flag')) && readFileSync(ws.path('started.flag'), 'utf8').endsWith('\n'), run);
  const pgid = Number(readFileSync(ws.path('started.flag'), 'utf8'));
  expect(groupAlive(pgid)).toBe(true);
  groups.push(pgid);
  return { run, pgid };
}

function expectConsistentWorkspace() {
  expect(readFileSync(ws.path('out/first.txt'), 'utf8')).toBe('first\n');
  expect(existsSync(ws.path('out/slow.txt'))).toBe(false);
  expect(existsSync(ws.path('out/extra'))).toBe(false);
  const store = inspectStore(ws.path('runs'));
  expect(store.badObjects).toEqual([]);
  expect(store.badManifests).toEqual([]);
  expect(store.temps).toEqual([]);
  expect(Object.values(store.stageOf)).toEqual(['first']);
}

describe('interrupts', () => {
  it.each([
    ['SIGINT', 'INT'],
    ['SIGTERM', 'TERM'],
  ] as const)('%s reaches the command as %s; exit 130; run and stage interrupted; partial outs removed; the next run re-runs only that stage', async (signal, got) => {
    const { run, pgid } = await startUntilSlowRuns(slow);
    run.child.kill(signal);
    expect(await run.exited).toBe(130);
    expect(readFileSync(ws.path('got-signal.txt'), 'utf8')).toBe(`${got}\n`);
    await waitFor('the command\'s processes to be gone', () => !groupAlive(pgid));
    const summary = JSON.parse(run.stdout());
    expect(summary).toMatchObject({ status: 'interrupted', exitCode: 130 });
    expect(summary.stages.map((s: any) => [s.name, s.status])).toEqual([
      ['first', 'completed'],
      ['slow', 'interrupted'],
    ]);
    const tracker = readTracker(ws.path('runs'));
    expect(tracker.runs.map((r) => r.status)).toEqual(['interrupted']);
    expect(tracker.stagesOf(tracker.runs[0].id)).toEqual([
      ['first', 'completed'],
      ['slow', 'interrupted'],
    ]);
    expectConsistentWorkspace();
    expect(readdirSync(ws.path('runs/tmp'))).toEqual([]);

    const next = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir, env: { FINISH: '1' } });
    expect(next.code).toBe(0);
    expect(next.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['first', true],
      ['slow', false],
    ]);
    expect(readFileSync(ws.path('out/slow.txt'), 'utf8')).toBe('complete\n');
  });

  it('a command that ignores the signal is killed when Ctrl-C comes again: exit 130 at once, no process left behind', async () => {
    const { run, pgid } = await startUntilSlowRuns(stubborn);
    run.child.kill('SIGINT');
    await waitFor('the first signal to be handled', () => run.stderr().includes('SIGINT: stopping running stages'), run);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    await waitFor('the command\'s processes to be gone', () => !groupAlive(pgid));
    const next = await runJson(['run', 'pipeline.yaml', '--stage', 'first'], { cwd: ws.dir });
    expect(next.code).toBe(0);
    expect(readTracker(ws.path('runs')).runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
  });
});
