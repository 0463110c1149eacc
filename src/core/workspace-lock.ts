import { randomBytes } from 'node:crypto';
import { link, readFile, rm, mkdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { flockFd } from './flock.js';
import { isProcessAlive } from './os/process-alive.js';
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

/**
 * Removes the lock file `path` of {@link acquireLock} (where there are no kernel locks) unless its holder
 * may be alive: a live holder on this host is refused, and so is a holder on another host (whose
 * processes cannot be seen from here) unless `force`. Returns the holder it removed, if any.
 */
export async function breakFileLock(path: string, opts: { force?: boolean } = {}): Promise<LockHolder | undefined> {
  const holder = await readHolder(path);
  if (!holder) {
    if (existsSync(path) && !(await olderThan(path, STALE_MS))) throw new UserError(`the lock file ${path} is being written; try again`);
    await rm(path, { force: true });
    return undefined;
  }
  if (holder.host === hostname() && isProcessAlive(holder.pid)) {
    throw new UserError(`the workspace lock ${path} is held by pid ${holder.pid} (${holder.label}), which is alive: a live lock is not broken`, {
      hint: `wait for it, or stop it: kill ${holder.pid}`,
    });
  }
  if (holder.host !== hostname() && !opts.force) {
    throw new UserError(`the workspace lock ${path} was taken on ${holder.host} (pid ${holder.pid}, ${holder.label}); mlpipe cannot tell from ${hostname()} whether that process is alive`, {
      hint: `if pid ${holder.pid} on ${holder.host} is gone (a restarted container, a copied runs folder), run mlpipe unlock again with --force`,
    });
  }
  const now = await readHolder(path);
  if (now?.pid === holder.pid && now.host === holder.host && now.label === holder.label) await rm(path, { force: true });
  return holder;
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

/** Who holds a workspace lock: written into the lock file once both kernel locks are taken. */
export interface WorkspaceLockHolder {
  runId: string;
  pipeline: string;
  pid: number;
  host: string;
  /** When the holder took the lock (epoch ms). */
  since: number;
}

/** A workspace lock held with kernel locks (see {@link acquireWorkspaceLock}). */
export interface HeldWorkspaceLock {
  /** The previous holder's record when it did not release the lock: it died holding it (recover after it). */
  previous?: WorkspaceLockHolder;
  release(): Promise<void>;
}

/** Options of {@link acquireWorkspaceLock}. */
export interface WorkspaceLockOptions {
  signal?: AbortSignal;
  /** Give up after this long (UserError, nothing run); default: wait as long as it takes. */
  timeoutMs?: number;
  /** Called at once when the lock is taken by someone else, then every `reportEveryMs` (default 10 s) while waiting. */
  onWait?: (holder: WorkspaceLockHolder | undefined, waitedMs: number) => void;
  reportEveryMs?: number;
  /**
   * Called while mlpipe of `holder` is gone (its owner lock is free) but commands it started still hold
   * the workspace lock: stop them. They hold it because they inherited its descriptor.
   */
  stopOrphans?: (holder: WorkspaceLockHolder | undefined) => Promise<void>;
  /** Throw {@link WorkspaceLockHeldError} at once, instead of waiting, while a live mlpipe holds the lock (`mlpipe unlock`). */
  refuseLiveHolder?: boolean;
}

/** The workspace lock is held by a live mlpipe process (its owner lock is taken): it is not stale. */
export class WorkspaceLockHeldError extends UserError {
  readonly holder?: WorkspaceLockHolder;
  constructor(path: string, holder: WorkspaceLockHolder | undefined) {
    super(`the workspace lock ${path} is held by ${holder ? describeHolder(holder) : 'a live mlpipe process'}, which is alive: a live lock is not broken`, {
      hint: holder
        ? `wait for it (mlpipe run --lock-timeout SECONDS gives up after a while), or stop it: kill ${holder.pid} on ${holder.host} (its commands and the lock go with it)`
        : 'wait for that run, or stop it',
    });
    this.name = 'WorkspaceLockHeldError';
    this.holder = holder;
  }
}

const inherited = new Set<number>();

/** Descriptors of the workspace locks this process holds: commands a stage starts inherit them (fd 3, 4, …), so they hold the lock too. */
export function lockDescriptors(): number[] {
  return [...inherited];
}

/**
 * Takes the workspace lock `path` with two flock(2) locks: `path.owner`, held by this process only
 * (Node opens files close-on-exec), and `path` itself, whose descriptor every shell command inherits.
 * The kernel releases them when their last holder exits — a zombie holds nothing, a reused pid is not
 * the holder, and a command left running by a SIGKILLed mlpipe keeps `path` locked until it is
 * stopped. A waiter that gets the owner lock while `path` is still locked knows the previous mlpipe is
 * gone and stops its orphans (`stopOrphans`). Across hosts the same holds where the file system
 * carries flock (NFS through its lock manager).
 */
export async function acquireWorkspaceLock(path: string, me: Omit<WorkspaceLockHolder, 'since'>, opts: WorkspaceLockOptions = {}): Promise<HeldWorkspaceLock> {
  await mkdir(dirname(path), { recursive: true });
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  const ownerFd = openSync(`${path}.owner`, constants.O_RDWR | constants.O_CREAT, 0o644);
  const started = Date.now();
  let reported = -Infinity;
  const waited = async (holder: WorkspaceLockHolder | undefined) => {
    const now = Date.now();
    if (opts.signal?.aborted) {
      throw new UserError(`interrupted while waiting for the workspace lock ${path}${holder ? ` (held by ${describeHolder(holder)})` : ''}; nothing was run`, { exitCode: ExitCode.Interrupted });
    }
    if (opts.timeoutMs !== undefined && now - started >= opts.timeoutMs) {
      throw new UserError(`gave up after ${Math.round((now - started) / 1000)} s waiting for the workspace lock ${path}${holder ? ` held by ${describeHolder(holder)}` : ''}; nothing was run`, {
        hint: 'wait for that run, raise --lock-timeout, or, if it is stuck, stop it; `mlpipe unlock SPEC` clears a lock whose run has died',
      });
    }
    if (now - reported >= (opts.reportEveryMs ?? 10_000)) {
      opts.onWait?.(holder, now - started);
      reported = now;
    }
  };
  const slice = () => Math.max(1, Math.min(2, opts.timeoutMs === undefined ? 2 : Math.ceil((opts.timeoutMs - (Date.now() - started)) / 1000)));
  try {
    while (!(await flockFd(ownerFd, 0))) {
      if (opts.refuseLiveHolder) throw new WorkspaceLockHeldError(path, readHolderSync(fd));
      if (await flockFd(ownerFd, slice(), opts.signal)) break;
      await waited(readHolderSync(fd));
    }
    while (!(await flockFd(fd, 0))) {
      const holder = readHolderSync(fd);
      await opts.stopOrphans?.(holder);
      if (await flockFd(fd, slice(), opts.signal)) break;
      await waited(holder);
    }
  } catch (err) {
    closeSync(fd);
    closeSync(ownerFd);
    throw err;
  }
  const previous = readHolderSync(fd);
  const holder: WorkspaceLockHolder = { ...me, since: Date.now() };
  ftruncateSync(fd, 0);
  writeSync(fd, JSON.stringify(holder), 0);
  inherited.add(fd);
  let released = false;
  return {
    previous,
    async release() {
      if (released) return;
      released = true;
      inherited.delete(fd);
      ftruncateSync(fd, 0);
      closeSync(fd);
      closeSync(ownerFd);
    },
  };
}

/** `run r-… (pid N on HOST, since TIME)`. */
export function describeHolder(h: WorkspaceLockHolder): string {
  return `run ${h.runId} of ${h.pipeline} (pid ${h.pid} on ${h.host}, since ${new Date(h.since).toISOString()})`;
}

function readHolderSync(fd: number): WorkspaceLockHolder | undefined {
  try {
    const size = fstatSync(fd).size;
    if (size === 0 || size > 64 * 1024) return undefined;
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    const value = JSON.parse(buf.toString('utf8')) as Partial<WorkspaceLockHolder>;
    return typeof value.runId === 'string' && Number.isInteger(value.pid) && typeof value.host === 'string' ? (value as WorkspaceLockHolder) : undefined;
  } catch {
    return undefined;
  }
}
