import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { inspectStore, isRoot, NOBODY, readTracker, runAsUser } from './harness.js';

// Issue 7.5: a full disk or an unwritable runs folder gives a clear error naming the path and
// leaves nothing half-written.

/** A system command, awaited (a blocking one would starve the test worker's RPC with the runner). */
const sh = promisify(execFile);

let ws: Workspace | undefined;
let mounted: string | undefined;
afterEach(async () => {
  if (mounted) await sh('umount', [mounted]);
  mounted = undefined;
  if (ws) {
    await sh('chmod', ['-R', 'u+rwX', ws.dir]);
    await ws.cleanup();
  }
  ws = undefined;
});


function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => `${join(e.parentPath, e.name)} ${e.isFile() ? statSync(join(e.parentPath, e.name)).size : 'dir'}`)
    .sort();
}

const spec = `name: full
stages:
  small:
    run: echo small > small.txt
    outs: [small.txt]
  big:
    run: head -c 1048576 /dev/urandom > big.bin
    needs: [small]
    outs: [big.bin]
`;

async function canMountTmpfs(): Promise<boolean> {
  if (!isRoot) return false;
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-mount-'));
  try {
    await sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    await sh('umount', [dir]);
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
}

function expectNothingHalfWritten(runsDir: string) {
  const store = inspectStore(runsDir);
  expect(store.badObjects).toEqual([]);
  expect(store.badManifests).toEqual([]);
  expect(store.temps).toEqual([]);
  expect(Object.values(store.stageOf)).toEqual(['small']);
  expect(readdirSync(join(runsDir, 'tmp'))).toEqual([]);
}

describe('unwritable runs folder', () => {
  it.each([
    ['the runs folder', 'runs'],
    ['the object store inside it', 'runs/cache/objects'],
  ])('%s: exit 2 naming the folder; nothing is run or written', async (_, unwritable) => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    expect((await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir })).code).toBe(0);
    if (isRoot) await sh('chown', ['-R', `${NOBODY}:${NOBODY}`, ws.dir]);
    chmodSync(ws.path(unwritable), 0o555);
    const before = snapshot(ws.path('runs'));

    const r = await runAsUser(['run', 'pipeline.yaml', '--force'], ws.dir);
    expect(r.code).toBe(2);
    const label = unwritable === 'runs' ? 'the runs folder ' : '';
    expect(r.stderr).toContain(`Error: cannot write to ${label}${ws.path(unwritable)}: permission denied (EACCES)`);
    expect(r.stderr).toContain('Hint: make it writable, or keep runs elsewhere with --runs-dir DIR or MLPIPE_RUNS_DIR; nothing was run');
    chmodSync(ws.path(unwritable), 0o755);
    expect(snapshot(ws.path('runs'))).toEqual(before);
    expect(readTracker(ws.path('runs')).runs).toHaveLength(1);
  });
});

const mountable = await canMountTmpfs();

describe('disk full while outputs are stored', () => {
  it.runIf(mountable)('a real full disk (a 512 KiB tmpfs as runs folder): the stage fails naming the cache folder and ENOSPC; after space is freed the run resumes', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    mkdirSync(ws.path('runs'));
    await sh('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', ws.path('runs')]);
    mounted = ws.path('runs');

    const full = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(full.code).toBe(1);
    expect(full.json.status).toBe('failed');
    const big = full.json.stages.find((s: any) => s.name === 'big');
    expect(big.status).toBe('failed');
    expect(big.error).toBe(
      `Cannot write ${ws.path('big.bin')} into ${ws.path('runs/cache')}: no space left on the device (ENOSPC); nothing partial was kept. ` +
        'Free some space (mlpipe gc drops cache objects no run needs) or point --runs-dir at a bigger disk, then run again: mlpipe run PIPELINE.yaml',
    );
    expectNothingHalfWritten(ws.path('runs'));
    expect(readTracker(ws.path('runs')).runs.map((r) => r.status)).toEqual(['failed']);

    await sh('mount', ['-o', 'remount,size=8m', ws.path('runs')]);
    const resumed = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(resumed.code).toBe(0);
    expect(resumed.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['small', true],
      ['big', false],
    ]);
  });

  it.each([['store-object'], ['store-manifest']])('an injected ENOSPC at %s (any machine): exit 1, a clear error, nothing half-written', async (point) => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    expect((await runJson(['run', 'pipeline.yaml', '--stage', 'small'], { cwd: ws.dir })).code).toBe(0);
    const r = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir, env: { MLPIPE_TEST_FAULT: `${point}:ENOSPC` } });
    expect(r.code).toBe(1);
    const what = point === 'store-object' ? ws.path('big.bin') : ws.path('runs/cache/manifests');
    expect(r.json.error).toMatch(new RegExp(`^stage big failed: Cannot write ${what}.* into ${ws.path('runs/cache')}: no space left on the device \\(ENOSPC\\); nothing partial was kept\\.`));
    expectNothingHalfWritten(ws.path('runs'));
    expect(readTracker(ws.path('runs')).runs.map((run) => run.status)).toEqual(['completed', 'failed']);
  });
});
