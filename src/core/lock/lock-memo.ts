import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256Hex } from '../hash/canonical-json.js';
import { writeAtomic } from '../fs/write-atomic.js';
import type { LockFile } from './lock-types.js';

/** What the memo holds for one lock file: the checked contents of the text with that digest. */
interface MemoEntry {
  sha256: string;
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
  private constructor(private readonly file: string) {}

  /** The memo of the lock file at `lockPath`, kept under `runsDir`. */
  static of(runsDir: string, lockPath: string): LockMemo {
    return new LockMemo(join(runsDir, 'cache', 'lock-memo', `${sha256Hex(resolve(lockPath)).slice(0, 16)}.json`));
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
    const entry: MemoEntry = { sha256: sha256Hex(text), lock, encodedFor };
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeAtomic(this.file, JSON.stringify(entry));
    } catch {
      // a read-only runs folder: nothing is lost but time
    }
  }
}
