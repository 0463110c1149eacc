import { randomBytes } from 'node:crypto';
import { link, readFile, rm, mkdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isProcessAlive } from './tracker/sqlite-tracker.js';
import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

const STALE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  label: string;
}

/**
 * An exclusive lock held by a file that appears whole (hard-linked into place, so it never exists
 * empty); a lock left by a dead process on this host is taken over. Shell stages write their outs
 * in place, so two runs that both write workspace files must not interleave (DVC holds a repo lock
 * for the same reason).
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
    if (await createWithContent(path, JSON.stringify(me))) {
      return async () => {
        const holder = await readHolder(path);
        if (holder?.pid === me.pid && holder.host === me.host && holder.label === me.label) await rm(path, { force: true });
      };
    }
    const holder = await readHolder(path);
    if (await isStale(path, holder)) {
      await removeStale(path, holder);
      continue;
    }
    if (opts.signal?.aborted) {
      throw new UserError(`interrupted while waiting for the workspace lock ${path}${holder ? ` (held by pid ${holder.pid}, ${holder.label})` : ''}; nothing was run`, {
        exitCode: ExitCode.Interrupted,
      });
    }
    if (holder && !told) {
      opts.onWait?.(holder);
      told = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

async function isStale(path: string, holder: LockHolder | undefined): Promise<boolean> {
  return holder ? holder.host === hostname() && !isProcessAlive(holder.pid) : olderThan(path, STALE_MS);
}

/**
 * Removes a stale lock under a short takeover guard, after reading it again there: two waiters that
 * both found it stale must not remove the lock one of them has just taken.
 */
async function removeStale(path: string, seen: LockHolder | undefined): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createWithContent(guard, String(process.pid)))) {
    if (await olderThan(guard, STALE_MS)) await rm(guard, { force: true });
    return;
  }
  try {
    const now = await readHolder(path);
    const same = now === undefined ? seen === undefined : now.pid === seen?.pid && now.host === seen.host && now.label === seen.label;
    if (same && (await isStale(path, now))) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Creates `path` holding `content`, atomically (a temp file hard-linked into place): false when it exists. */
async function createWithContent(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content);
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
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
