import { open, readFile, rm, mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isProcessAlive } from './tracker/sqlite-tracker.js';

export interface LockHolder {
  pid: number;
  host: string;
  label: string;
}

/**
 * An exclusive lock held by a file created with O_EXCL; a lock left by a dead process on this host
 * is taken over. Shell stages write their outs in place, so two runs that both write workspace
 * files must not interleave (DVC holds a repo lock for the same reason).
 */
export async function acquireLock(
  path: string,
  label: string,
  opts: { onWait?: (holder: LockHolder) => void; pollMs?: number; signal?: AbortSignal } = {},
): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), label };
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      return async () => {
        const holder = await readHolder(path);
        if (holder?.pid === me.pid && holder.host === me.host && holder.label === me.label) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(path);
    if ((holder && holder.host === me.host && !isProcessAlive(holder.pid)) || (!holder && (await olderThan(path, 10_000)))) {
      await rm(path, { force: true });
      continue;
    }
    if (opts.signal?.aborted) throw new Error(`gave up waiting for the workspace lock ${path}`);
    if (holder && !told) {
      opts.onWait?.(holder);
      told = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}
