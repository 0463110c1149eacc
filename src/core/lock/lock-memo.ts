import { mkdir, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256Hex } from '../hash/canonical-json.js';
import { writeAtomic } from '../fs/write-atomic.js';
import type { LockFile } from './lock-types.js';

/** What the memo holds for one lock file: the checked contents of the text with that digest. */
interface MemoEntry {
  sha256: string;
  /** The absolute path of the lock file the text is of (what gc checks the memo against). */
  lockPath?: string;
  lock: LockFile;
  /** The spec name the text is `encodeLock`'s output of `lock` for (then an unchanged lock needs no encoding to be known unchanged); absent for a text read, not written. */
  encodedFor?: string;
}

/**
 * A lock file's decoded contents remembered by the sha-256 of its text (in the runs folder, beside
 * the stat cache), so a no-op run neither parses nor re-encodes the YAML it wrote last time: YAML
 * was a sixth of a cached 10-stage run's CPU time. Any other text (an edit, a merge, a checkout) has
 * another digest and is decoded and checked in full. Only a lock without problems is remembered.
 */
export class LockMemo {
  private constructor(
    private readonly file: string,
    private readonly lockPath: string,
  ) {}

  /** The memo of the lock file at `lockPath`, kept under `runsDir`. */
  static of(runsDir: string, lockPath: string): LockMemo {
    const absolute = resolve(lockPath);
    return new LockMemo(join(memoDir(runsDir), memoFileName(absolute)), absolute);
  }

  /** The remembered contents of `text`, or undefined (another text, no memo, an unreadable one). */
  async get(text: string): Promise<Omit<MemoEntry, 'sha256'> | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file, 'utf8')) as MemoEntry;
      return entry.sha256 === sha256Hex(text) && entry.lock && typeof entry.lock === 'object' ? { lock: entry.lock, encodedFor: typeof entry.encodedFor === 'string' ? entry.encodedFor : undefined } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembers `lock` as the contents of `text`; a memo that cannot be written only costs the next run a parse. */
  async put(text: string, lock: LockFile, encodedFor?: string): Promise<void> {
    const entry: MemoEntry = { sha256: sha256Hex(text), lockPath: this.lockPath, lock, encodedFor };
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeAtomic(this.file, JSON.stringify(entry));
    } catch {
      // a read-only runs folder: nothing is lost but time
    }
  }
}

const memoDir = (runsDir: string): string => join(runsDir, 'cache', 'lock-memo');
const memoFileName = (absoluteLockPath: string): string => `${sha256Hex(absoluteLockPath).slice(0, 16)}.json`;

/** What {@link pruneLockMemos} kept and removed (removed: would remove, with `dry`). */
export interface LockMemoPrune {
  kept: number;
  removed: number;
}

/**
 * Drops the memos under `runsDir` that can never be served again: the lock file they are of is
 * gone (moved, deleted, a workspace renamed) or holds another text now, the memo is unreadable, or
 * it names no lock file (written by an older mlpipe). A memo whose mtime is at or after `cutoff`
 * (epoch ms) is left alone: a concurrent run may have just written it. Removing a memo wrongly
 * costs only one parse of the lock file on the next run.
 */
export async function pruneLockMemos(runsDir: string, opts: { cutoff: number; dry?: boolean }): Promise<LockMemoPrune> {
  const result: LockMemoPrune = { kept: 0, removed: 0 };
  let names: string[];
  try {
    names = (await readdir(memoDir(runsDir))).filter((n) => n.endsWith('.json'));
  } catch {
    return result;
  }
  for (const name of names) {
    const file = join(memoDir(runsDir), name);
    if (!(await olderThan(file, opts.cutoff)) || (await stillServes(file, name))) {
      result.kept++;
      continue;
    }
    if (opts.dry) result.removed++;
    else if (await olderThan(file, opts.cutoff)) {
      await unlink(file).catch(() => undefined);
      result.removed++;
    } else result.kept++;
  }
  return result;
}

async function olderThan(file: string, cutoff: number): Promise<boolean> {
  try {
    return (await stat(file)).mtimeMs < cutoff;
  } catch {
    return false;
  }
}

/** Whether the memo in `file` is of the lock file it names (under its own name) and that file's text now. */
async function stillServes(file: string, name: string): Promise<boolean> {
  let entry: Partial<MemoEntry>;
  try {
    entry = JSON.parse(await readFile(file, 'utf8')) as Partial<MemoEntry>;
  } catch {
    return false;
  }
  if (typeof entry.lockPath !== 'string' || typeof entry.sha256 !== 'string' || memoFileName(entry.lockPath) !== name) return false;
  try {
    return sha256Hex(await readFile(entry.lockPath, 'utf8')) === entry.sha256;
  } catch {
    return false;
  }
}
