import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { killHard, startCli, waitFor, type Started } from './harness.js';

// Issue 14 item 3: `mlpipe unlock` frees a lock whose holder died (stopping the commands that still hold
// it) and refuses while the holder lives; gc says which running run pins its cutoff.

const workspaces: Workspace[] = [];
const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) s.child.kill('SIGKILL');
  for (const ws of workspaces.splice(0)) await ws.cleanup();
});

const spec = `name: held
stages:
  slow:
    run: mkdir -p out && echo "$MLPIPE_RUN_ID" > out/id.txt && while [ ! -e RELEASE ] && [ -e pipeline.yaml ]; do echo tick >> out/ticks.txt; sleep 0.1; done
    outs: [out/id.txt]
`;

async function holding(): Promise<{ ws: Workspace; first: Started; runId: string }> {
  const ws = await makeWorkspace({ 'pipeline.yaml': spec });
  workspaces.push(ws);
  const first = startCli(['run', 'pipeline.yaml'], ws.dir);
  started.push(first);
  await waitFor('the first run to start its command', () => existsSync(ws.path('out/ticks.txt')), first);
  return { ws, first, runId: readFileSync(ws.path('out/id.txt'), 'utf8').trim() };
}

const ticks = (ws: Workspace) => readFileSync(ws.path('out/ticks.txt'), 'utf8').length;

describe('mlpipe unlock (issue 14.3)', () => {
  it('refuses while the holder lives, naming run, pid and host, and changes nothing', async () => {
    const { ws, first, runId } = await holding();
    const r = await runCli(['unlock', 'pipeline.yaml'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`held by run ${runId} of held (pid ${first.child.pid} on ${hostname()}, since `);
    expect(r.stderr).toContain('which is alive: a live lock is not broken');
    expect(r.stderr).toContain(`Hint: wait for it (mlpipe run --lock-timeout SECONDS gives up after a while), or stop it: kill ${first.child.pid} on ${hostname()}`);
    writeFileSync(ws.path('RELEASE'), '');
    expect(await first.exited).toBe(0);
    const runs = await runJson<{ runs: { id: string; status: string }[] }>(['runs', 'list'], { cwd: ws.dir });
    expect(runs.json.runs.map((x) => [x.id, x.status])).toEqual([[runId, 'completed']]);
  });

  // It failed now and then under load: a run killed before it wrote its command's marker left the
  // command unfound; those are now found by MLPIPE_RUN_ID (test/stages/shell-orphans.test.ts).
  it('frees a lock whose mlpipe was SIGKILLed: stops the command it left (which held the lock), marks the run interrupted; the next run starts at once', async () => {
    const { ws, first, runId } = await holding();
    await killHard(first);
    const r = await runJson<{ state: string; holder: string; stopped: string[]; interrupted: string[] }>(['unlock', 'pipeline.yaml'], { cwd: ws.dir });
    expect(r.code, `${r.stderr}\n${JSON.stringify(r.json)}`).toBe(0);
    expect(r.json.state).toBe('released');
    expect(r.json.holder).toMatch(new RegExp(`^run ${runId} of held \\(pid ${first.child.pid} on `));
    expect(r.json.stopped).toEqual([expect.stringMatching(new RegExp(`^stopped the command of stage slow that killed run ${runId} left running`))]);
    expect(r.json.interrupted).toEqual([runId]);
    const after = ticks(ws);
    await new Promise((done) => setTimeout(done, 500));
    expect(ticks(ws)).toBe(after);

    const again = await runJson<{ state: string; interrupted: string[] }>(['unlock', 'pipeline.yaml'], { cwd: ws.dir });
    expect([again.code, again.json.state, again.json.interrupted]).toEqual([0, 'free', []]);
    writeFileSync(ws.path('RELEASE'), '');
    const next = await runJson<{ status: string }>(['run', 'pipeline.yaml', '--lock-timeout', '0'], { cwd: ws.dir });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('waiting for');
    const runs = await runJson<{ runs: { id: string; status: string }[] }>(['runs', 'list'], { cwd: ws.dir });
    expect(runs.json.runs.find((x) => x.id === runId)?.status).toBe('interrupted');
  });

  it('says the lock is free when no run ever took it', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const r = await runCli(['unlock', 'pipeline.yaml'], { cwd: ws.dir });
    expect([r.code, r.stdout.trim()]).toEqual([0, 'the workspace lock of held is free']);
  });
});

describe('gc says what pins its cutoff (issue 14.3)', () => {
  it('names the running run whose start holds the cutoff back', async () => {
    const { ws, first, runId } = await holding();
    const r = await runJson<{ cutoff: string; pinnedBy?: { runId: string; pid: number; host: string; startedAt: string } }>(['gc', '--dry'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.pinnedBy).toMatchObject({ runId, pid: first.child.pid, host: hostname() });
    expect(Date.parse(r.json.cutoff)).toBeLessThan(Date.parse(r.json.pinnedBy!.startedAt));
    const text = await runCli(['gc', '--dry'], { cwd: ws.dir });
    expect(text.stdout).toContain(`cutoff pinned by running run ${runId} of held (pid ${first.child.pid} on ${hostname()}, started `);
    writeFileSync(ws.path('RELEASE'), '');
    expect(await first.exited).toBe(0);
    const done = await runJson<{ pinnedBy?: unknown }>(['gc', '--dry'], { cwd: ws.dir });
    expect(done.json.pinnedBy).toBeUndefined();
  });
});
