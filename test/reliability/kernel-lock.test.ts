import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, runJson } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { killHard, startCli, type Started } from './harness.js';

// Issue 14 items 2 and 3: a run queued behind one that is SIGKILLed must not run beside the command the
// killed run left behind, and a holder that is a zombie (its parent never wait()s) or that ran under
// another hostname must not keep the lock forever.

const workspaces: Workspace[] = [];
const parents: Array<{ kill(signal: NodeJS.Signals): boolean }> = [];
afterEach(async () => {
  for (const p of parents.splice(0)) p.kill('SIGKILL');
  for (const ws of workspaces.splice(0)) await ws.cleanup();
});

const LINES = 30;
const spec = `name: slow
stages:
  slow:
    run: mkdir -p out && for i in $(seq 1 ${LINES}); do echo "$MLPIPE_RUN_ID $i" >> out/2.txt; sleep 0.1; done && while [ ! -e RELEASE ] && [ -e pipeline.yaml ]; do sleep 0.1; done
    outs: [out/2.txt]
`;

/** A parent that forks mlpipe (optionally under another hostname), SIGKILLs it once KILL exists, and never reaps it. */
const parentScript = `
import os, sys, time, signal
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
print(pid, flush=True)
while not os.path.exists('KILL'):
    time.sleep(0.02)
os.kill(pid, signal.SIGKILL)
open('KILLED', 'w').close()
time.sleep(600)
`;

function startUnreaped(ws: Workspace, hostName?: string): { pid: Promise<number> } {
  const cli = [process.execPath, cliPath, 'run', 'pipeline.yaml'];
  const argv = hostName ? ['unshare', '--uts', 'sh', '-c', `hostname ${hostName} && exec "$@"`, 'sh', ...cli] : cli;
  const parent = spawn('python3', ['-c', parentScript, ...argv], { cwd: ws.dir, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] });
  parents.push(parent);
  return { pid: new Promise((resolve) => parent.stdout.once('data', (d) => resolve(Number(String(d).trim())))) };
}

const lines = (ws: Workspace) => (existsSync(ws.path('out/2.txt')) ? readFileSync(ws.path('out/2.txt'), 'utf8').trim().split('\n') : []);
const state = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};

async function expectCleanSecondRun(ws: Workspace, second: Started, firstRunId: string) {
  const code = await second.exited;
  expect(code, second.stderr()).toBe(0);
  const summary = JSON.parse(second.stdout()) as { runId: string; status: string };
  expect(summary.status).toBe('completed');
  expect(lines(ws)).toEqual(Array.from({ length: LINES }, (_, i) => `${summary.runId} ${i + 1}`));
  expect(second.stderr()).toContain(`run ${firstRunId} of slow`);
  expect(second.stderr()).toContain('died holding the workspace lock');
  const runs = await runJson(['runs', 'list'], { cwd: ws.dir });
  expect(JSON.stringify(runs.json)).toMatch(new RegExp(`"${firstRunId}".*?"interrupted"|"interrupted".*?"${firstRunId}"`));
}

const firstRunId = (ws: Workspace) => lines(ws)[0].split(' ')[0];

describe('the kernel workspace lock (issue 14.2, 14.3)', () => {
  it('a run queued behind a SIGKILLed run waits for the command it left, stops it, and writes outs alone', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const first = startCli(['run', 'pipeline.yaml'], ws.dir);
    await waitFor('the first run to write a line', () => lines(ws).length >= 2, first);
    const second = startCli(['run', 'pipeline.yaml', '--json'], ws.dir);
    await waitFor('the second run to wait for the lock', () => second.stderr().includes('waiting for run'), second);
    const id = firstRunId(ws);
    await killHard(first);
    writeFileSync(ws.path('RELEASE'), '');
    await expectCleanSecondRun(ws, second, id);
  });

  it('a zombie holder (its parent SIGKILLs mlpipe and never waits) holds nothing', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const parent = startUnreaped(ws);
    const pid = await parent.pid;
    await waitFor('the first run to write a line', () => lines(ws).length >= 2);
    const second = startCli(['run', 'pipeline.yaml', '--json'], ws.dir);
    await waitFor('the second run to wait for the lock', () => second.stderr().includes(`waiting for run ${firstRunId(ws)} of slow (pid ${pid} on `), second);
    writeFileSync(ws.path('KILL'), '');
    await waitFor('the parent to kill mlpipe', () => existsSync(ws.path('KILLED')));
    await waitFor('mlpipe to be a zombie', () => state(pid) === 'Z');
    writeFileSync(ws.path('RELEASE'), '');
    await expectCleanSecondRun(ws, second, firstRunId(ws));
    expect(state(pid)).toBe('Z');
  });

  it.runIf(process.getuid?.() === 0)('a holder that ran under another hostname is waited for while it lives, then taken over once it dies as a zombie', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const parent = startUnreaped(ws, 'other-host');
    const pid = await parent.pid;
    await waitFor('the first run to write a line', () => lines(ws).length >= 2);
    const second = startCli(['run', 'pipeline.yaml', '--json', '--lock-timeout', '600'], ws.dir);
    await waitFor('the second run to wait for the other host', () => second.stderr().includes(`(pid ${pid} on other-host, since `), second);
    writeFileSync(ws.path('KILL'), '');
    await waitFor('the parent to kill mlpipe', () => existsSync(ws.path('KILLED')));
    writeFileSync(ws.path('RELEASE'), '');
    await expectCleanSecondRun(ws, second, firstRunId(ws));
  });

  it('--lock-timeout gives up with a message naming the holder, and runs nothing', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const first = startCli(['run', 'pipeline.yaml'], ws.dir);
    await waitFor('the first run to write a line', () => lines(ws).length >= 1, first);
    const second = startCli(['run', 'pipeline.yaml', '--json', '--lock-timeout', '1'], ws.dir);
    const code = await second.exited;
    expect(code).toBe(2);
    expect(second.stdout() + second.stderr()).toMatch(/gave up after \d+ s waiting for the workspace lock .* held by run r-[0-9a-f]+ of slow \(pid \d+ on /);
    writeFileSync(ws.path('RELEASE'), '');
    expect(await first.exited).toBe(0);
  });
});
