import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { isProcessAlive } from '../os/process-alive.js';
import type { Workspace } from '../workspace/workspace.js';
import type { StageKinds } from '../stage-kind.js';

const WRITE_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a path component is a file, not a folder',
};

/**
 * Refuses to start (exit 2, nothing run) when the runs folder or one of its parts cannot be
 * written: a real file is created and removed in each, since permission bits say nothing for root
 * or on read-only mounts.
 */
export async function checkWritable(runsDir: string): Promise<void> {
  const folders = [runsDir, join(runsDir, 'cache'), join(runsDir, 'cache', 'tmp'), join(runsDir, 'cache', 'objects'), join(runsDir, 'cache', 'manifests'), join(runsDir, 'tmp')];
  for (const [i, folder] of folders.entries()) {
    const probe = join(folder, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      if (i === 0) await mkdir(folder, { recursive: true });
      else if (!existsSync(folder)) continue;
      await writeFile(probe, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new UserError(`cannot write to ${folder === runsDir ? 'the runs folder ' : ''}${folder}: ${WRITE_PROBLEMS[code] ?? (err as Error).message} (${code})`, {
        hint: 'make it writable, or keep runs elsewhere with --runs-dir DIR or MLPIPE_RUNS_DIR; nothing was run',
        cause: err,
      });
    } finally {
      await rm(probe, { force: true }).catch(() => {});
    }
  }
}

/**
 * Clears up after runs whose process was killed: each kind's `recover` hook first (the shell kind stops
 * commands they left running, which would go on writing outs), then deletes their temp folders and half-written cache files. Never touches
 * what a live run is writing.
 */
export async function recoverFromKilledRuns(ws: Workspace, kinds: StageKinds, warn: ((message: string) => void) | undefined): Promise<void> {
  for (const kind of kinds.values()) {
    for (const message of (await kind.recover?.(ws.runsDir)) ?? []) warn?.(message);
  }
  await ws.store.removeStaleTemps(isProcessAlive);
  const tmp = join(ws.runsDir, 'tmp');
  const finished = async (runId: string) => {
    const run = await ws.tracker.getRun(runId);
    return run !== undefined && run.status !== 'running';
  };
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const runId = /^(r-[0-9a-f]+)-/.exec(name)?.[1];
    if (runId && (await finished(runId))) await rm(join(tmp, name), { recursive: true, force: true });
  }
  for (const name of await readdir(ws.runsDir).catch(() => [] as string[])) {
    const runId = /^\.latest-(r-[0-9a-f]+)$/.exec(name)?.[1];
    if (runId && (await finished(runId))) await rm(join(ws.runsDir, name), { force: true });
  }
}
