import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { PipelineSpec } from '../spec/types.js';
import { hasKernelLocks } from '../flock.js';
import { openTracker } from '../tracker/open-tracker.js';
import { acquireWorkspaceLock, breakFileLock, describeHolder, type WorkspaceLockHolder } from '../workspace-lock.js';
import { markHolderInterrupted, stopOrphansOf } from './lock-takeover.js';
import { workspaceLockPath } from './run-pipeline.js';

/** The `--json` output of `mlpipe unlock` (schemaVersion 1). */
export interface UnlockResult {
  schemaVersion: 1;
  /** The lock file of the spec's workspace. */
  lock: string;
  /** `free`: nobody held it; `released`: it was left by a holder that died, and is free now. */
  state: 'free' | 'released';
  /** Who had left it (`released` only): `run r-… of PIPELINE (pid N on HOST, since …)`. */
  holder?: string;
  /** Commands the dead holder left running (they held the lock), stopped. */
  stopped: string[];
  /** Runs found dead and marked interrupted (the holder's, and any other `running` run whose process is gone). */
  interrupted: string[];
}

/** Options of {@link unlockWorkspace}. */
export interface UnlockOptions {
  runsDir: string;
  /** Without kernel locks: remove a lock file written on another host, whose process cannot be checked. */
  force?: boolean;
  /** Kernel locks (flock) in use; default: where flock(1) exists. */
  kernelLocks?: boolean;
  /** How long stopping the dead holder's commands may take before giving up. */
  timeoutMs?: number;
}

/**
 * Frees the workspace lock of `spec` when its holder is dead, and refuses (UserError naming the
 * holder) while it lives. With kernel locks a dead holder has released them already, or commands it
 * left running still hold the lock through fd 3: those are stopped (as a waiting run would), the
 * holder's run is marked interrupted, and the lock's record cleared. Also marks every other dead
 * `running` run interrupted, so that none keeps pinning gc's cutoff.
 */
export async function unlockWorkspace(spec: PipelineSpec, opts: UnlockOptions): Promise<UnlockResult> {
  const path = await workspaceLockPath(opts.runsDir, spec.dir);
  const result: UnlockResult = { schemaVersion: 1, lock: path, state: 'free', stopped: [], interrupted: [] };
  if (!existsSync(opts.runsDir)) return result;
  const tracker = await openTracker(opts.runsDir);
  try {
    let previous: WorkspaceLockHolder | undefined;
    const locked = existsSync(path);
    if (locked && (opts.kernelLocks ?? hasKernelLocks)) {
      const lock = await acquireWorkspaceLock(path, { runId: 'unlock', pipeline: spec.name, pid: process.pid, host: hostname() }, {
        refuseLiveHolder: true,
        timeoutMs: opts.timeoutMs ?? 30_000,
        stopOrphans: async (h) => void result.stopped.push(...(await stopOrphansOf(spec.kinds, opts.runsDir, h))),
      });
      previous = lock.previous;
      try {
        if (previous && (await markHolderInterrupted(tracker, previous))) result.interrupted.push(previous.runId);
      } finally {
        await lock.release();
      }
    } else if (locked) {
      const holder = await breakFileLock(path, { force: opts.force });
      if (holder) result.holder = `pid ${holder.pid} on ${holder.host} (${holder.label})`;
    }
    if (previous) result.holder = describeHolder(previous);
    if (result.holder) result.state = 'released';
    for (const id of await tracker.markDeadRunsInterrupted()) if (!result.interrupted.includes(id)) result.interrupted.push(id);
    return result;
  } finally {
    await tracker.close();
  }
}
