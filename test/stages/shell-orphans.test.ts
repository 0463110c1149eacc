import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { stopOrphanedCommands } from '../../src/stages/shell-command-markers.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// A run SIGKILLed between starting a command and writing its marker left the command running,
// holding the workspace lock, with nothing to find it by (the unlock test's rare failure under load).

let ws: Workspace | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.pid) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  await ws?.cleanup();
});

/** A detached command group, as a shell stage starts one, carrying `runId` in its environment. */
function command(runId: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', 'echo up; while :; do sleep 0.1; done'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, MLPIPE_RUN_ID: runId, MLPIPE_STAGE: 'slow' } });
  children.push(child);
  return new Promise((started) => child.stdout!.once('data', () => started(child)));
}

const alive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exited = (child: ChildProcess) => new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));

describe('stopping the commands a killed run left (no marker written)', () => {
  it.runIf(process.platform === 'linux')('finds them by MLPIPE_RUN_ID and stops their group; commands of other runs are left alone', async () => {
    ws = await makeWorkspace();
    const orphan = await command('r-dead');
    const other = await command('r-alive');
    const stopped = await stopOrphanedCommands(ws.path('runs'), { isAlive: () => true, deadRuns: new Set(['r-dead']), graceMs: 5_000 });
    expect(stopped).toEqual([{ runId: 'r-dead', stage: 'slow', pgid: orphan.pid }]);
    await exited(orphan);
    expect(alive(other.pid!)).toBe(true);
    expect(await stopOrphanedCommands(ws.path('runs'), { isAlive: () => true, deadRuns: new Set() })).toEqual([]);
    expect(alive(other.pid!)).toBe(true);
  });
});
