import { resolve } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import type { FileHasher } from '../hash/stat-cache.js';
import type { OutputManifest } from '../hash/path-manifest.js';
import { hashPath } from '../hash/hash-path.js';
import { messageOf } from '../../errors.js';
import { lockEntryOf } from '../lock/lock-entry.js';
import type { LockedStage } from '../lock/lock-file.js';
import { updateLockFile, type LockWrite } from '../lock/update-lock.js';
import type { ExecutionResult } from './execute-plan.js';

/**
 * Records the stages a run completed (ran or restored) in the spec's lock file. Their deps are
 * hashed again through the stat cache for sizes (no file is read twice); a lock that cannot be
 * written is a warning: the results are in the cache and the next run writes it.
 */
export async function writeRunLock(
  spec: PipelineSpec,
  result: Pick<ExecutionResult, 'stages' | 'extras'>,
  opts: { runsDir: string; hasher: FileHasher; onWarning?: (message: string) => void },
): Promise<LockWrite | undefined> {
  const entries: Record<string, LockedStage> = {};
  for (const s of result.stages) {
    const record = result.extras.get(s.name);
    if (s.status !== 'completed' || !record?.key || !record.material || !record.manifest) continue;
    const deps: Record<string, OutputManifest | undefined> = {};
    for (const path of Object.keys(record.material.inputs)) deps[path] = await hashPath(resolve(spec.dir, path), opts.hasher).catch(() => undefined);
    const entry = lockEntryOf(record.key, record.material, record.manifest, deps);
    if (entry) entries[s.name] = entry;
  }
  if (Object.keys(entries).length === 0) return undefined;
  try {
    return await updateLockFile(spec, entries, opts);
  } catch (err) {
    opts.onWarning?.(`the lock file of ${spec.file} could not be written (${messageOf(err)}); the results are cached, and the next run writes it`);
    return undefined;
  }
}
