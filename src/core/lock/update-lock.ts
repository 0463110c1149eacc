import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import { writeAtomic } from '../fs/write-atomic.js';
import { acquireLock } from '../workspace-lock.js';
import { LOCK_SCHEMA_VERSION } from './lock-schema.js';
import { encodeLock, lockPathOf, readLockFile, type LockedStage, type LockFile } from './lock-file.js';
import { LockMemo } from './lock-memo.js';
import { canonicalJson } from '../hash/canonical-json.js';

/** What {@link updateLockFile} did. */
export interface LockWrite {
  /** Absolute path of the lock file. */
  path: string;
  /** Whether its bytes changed (an unchanged lock is not rewritten). */
  changed: boolean;
}

/**
 * Merges the entries of the stages a run completed into the spec's lock file (DVC writes
 * `dvc.lock` the same way): their entries replace the old ones, entries of stages that did not
 * complete this time are kept, and entries of stages no longer in the spec are dropped. Written
 * atomically (temp file, then rename) under a lock of its own, and only when its bytes change.
 */
export async function updateLockFile(
  spec: Pick<PipelineSpec, 'file' | 'name' | 'stages'>,
  entries: Record<string, LockedStage>,
  opts: { runsDir: string; onWarning?: (message: string) => void },
): Promise<LockWrite> {
  const path = lockPathOf(spec.file);
  const unlock = await acquireLock(await writerLockPath(opts.runsDir, path), `writing ${basename(path)}`);
  try {
    const memo = LockMemo.of(opts.runsDir, path);
    const current = await readLockFile(path, basename(path), memo);
    for (const problem of current?.problems ?? []) opts.onWarning?.(problem);
    const kept = Object.entries(current?.lock?.stages ?? {}).filter(([name]) => Object.hasOwn(spec.stages, name));
    const lock: LockFile = { schemaVersion: LOCK_SCHEMA_VERSION, pipeline: spec.name, stages: { ...Object.fromEntries(kept), ...entries } };
    // The text on disk is this lock's encoding already: nothing to encode, compare or write.
    if (current?.encodedFor === basename(spec.file) && current.lock && canonicalJson(current.lock) === canonicalJson(lock)) return { path, changed: false };
    const text = encodeLock(lock, basename(spec.file));
    const changed = current?.text !== text;
    if (changed) await writeAtomic(path, text);
    await memo.put(text, lock, basename(spec.file));
    return { path, changed };
  } finally {
    await unlock();
  }
}

/** One writer at a time per lock file (two runs of pipelines without shell stages do not hold the workspace lock). */
async function writerLockPath(runsDir: string, lockFile: string): Promise<string> {
  const dir = await realpath(dirname(lockFile)).catch(() => resolve(dirname(lockFile)));
  const real = join(dir, basename(lockFile));
  return join(runsDir, 'locks', `${createHash('sha256').update(real).digest('hex').slice(0, 16)}.lockfile.lock`);
}
