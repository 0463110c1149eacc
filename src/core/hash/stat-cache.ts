import { randomBytes } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { canonicalJson } from './canonical-json.js';
import { hashFilesDetailed, type HashedFile } from './hash-file.js';

/** A file's content hash with its size and permission bits (`st_mode & 0o777`). */
export interface FileHash {
  hash: string;
  size: number;
  mode: number;
}

/** Anything that turns file paths into content hashes, in input order. */
export interface FileHasher {
  hashAll(paths: string[]): Promise<FileHash[]>;
}

/** Hashes every file afresh and remembers nothing (for files about to be moved away, such as a run's temp outputs). */
export const uncachedHasher: FileHasher = {
  async hashAll(paths) {
    return (await hashFilesDetailed(paths)).map(toFileHash);
  },
};

/**
 * An entry is only trusted when the file's mtime was at least this long before hashing began.
 * File systems stamp mtimes with a coarse clock (a kernel tick; seconds on some network and FAT
 * mounts), so a file rewritten right after it was hashed, with the same size, can keep the very
 * mtime that was recorded. Such "racily clean" entries are re-hashed on every lookup until the
 * file is old enough; a later write then necessarily moves the mtime past the recorded one.
 */
export const RACY_WINDOW_MS = 2_000;

/** The stat cache keeps at most this many entries, dropping the least recently hashed. */
export const MAX_ENTRIES = 100_000;

/** Options for {@link StatCache.open}; either one gives a private instance instead of the process-wide one. */
export interface StatCacheOptions {
  /** Never share this instance and load the file afresh. */
  fresh?: boolean;
  /** Wall clock in milliseconds (tests move it forward to age files past {@link RACY_WINDOW_MS}). */
  clock?: () => number;
}

interface Entry {
  hash: string;
  size: number;
  mtimeNs: bigint;
  ino: bigint;
  mode: number;
  hashedAtMs: number;
}

type StoredEntry = [hash: string, size: number, mtimeNs: string, ino: string, mode: number, hashedAtMs: number];

/**
 * Remembers file hashes by (absolute path, size, mtime in ns, inode) in
 * `<runsDir>/cache/stat-cache.json`, so unchanged inputs are not read again. Loaded once per
 * process and runs folder; {@link StatCache.save} writes it atomically, merged with whatever
 * another process saved meanwhile, and only when something changed.
 */
export class StatCache implements FileHasher {
  private static readonly shared = new Map<string, Promise<StatCache>>();

  /** Lookups answered from the cache and files actually read, since this instance was opened. */
  readonly stats = { hits: 0, misses: 0, bytesHashed: 0 };
  /** Every absolute path asked for since this instance was opened (what a run's no-op memo depends on). */
  readonly asked = new Set<string>();
  private readonly dirty = new Map<string, Entry>();

  private constructor(
    /** The JSON file behind this cache. */
    readonly file: string,
    private readonly entries: Map<string, Entry>,
    private readonly clock: () => number,
  ) {}

  /** The stat cache of a runs folder: one shared instance per process unless options are given. */
  static open(runsDir: string, options?: StatCacheOptions): Promise<StatCache> {
    const file = join(resolve(runsDir), 'cache', 'stat-cache.json');
    if (options?.fresh || options?.clock) return StatCache.load(file, options.clock ?? Date.now);
    let opening = StatCache.shared.get(file);
    if (!opening) {
      opening = StatCache.load(file, Date.now);
      StatCache.shared.set(file, opening);
    }
    return opening;
  }

  private static async load(file: string, clock: () => number): Promise<StatCache> {
    return new StatCache(file, await readEntries(file), clock);
  }

  /** The hash of one file, from the cache when its stat still matches. */
  async hash(path: string): Promise<FileHash> {
    const [file] = await this.hashAll([path]);
    return file!;
  }

  /** Hashes of many files: stat-checked here, misses hashed concurrently on the hash worker pool. */
  async hashAll(paths: string[]): Promise<FileHash[]> {
    const startedAt = this.clock();
    const absolute = paths.map(absolutePath);
    const results: FileHash[] = new Array(absolute.length);
    const misses = new Map<string, number[]>();
    let statted = 0;
    for (let i = 0; i < absolute.length; i++) {
      const path = absolute[i]!;
      this.asked.add(path);
      const entry = this.entries.get(path);
      if (entry && ++statted % 256 === 0) await yieldToLoop();
      const stat = entry && statOrUndefined(path);
      if (entry && stat && this.isFresh(entry, stat)) {
        results[i] = { hash: entry.hash, size: entry.size, mode: entry.mode };
        this.stats.hits++;
      } else {
        const at = misses.get(path);
        if (at) at.push(i);
        else misses.set(path, [i]);
      }
    }
    const missed = [...misses.keys()];
    const hashed = await hashFilesDetailed(missed);
    hashed.forEach((file, k) => {
      const path = missed[k]!;
      const entry: Entry = { ...toFileHash(file), mtimeNs: file.mtimeNs, ino: file.ino, hashedAtMs: startedAt };
      this.entries.set(path, entry);
      this.dirty.set(path, entry);
      this.stats.misses++;
      this.stats.bytesHashed += file.size;
      for (const i of misses.get(path)!) results[i] = toFileHash(file);
    });
    return results;
  }

  /** Writes new entries (temp file + rename), merged over what is on disk now. A no-op when nothing changed. */
  async save(): Promise<void> {
    if (this.dirty.size === 0) return;
    const merged = await readEntries(this.file);
    for (const [path, entry] of this.dirty) merged.set(path, entry);
    const kept = [...merged].sort((a, b) => b[1].hashedAtMs - a[1].hashedAtMs).slice(0, MAX_ENTRIES);
    const stored = kept.map(([path, e]): [string, StoredEntry] => [
      path,
      [e.hash, e.size, String(e.mtimeNs), String(e.ino), e.mode, e.hashedAtMs],
    ]);
    const text = `${canonicalJson({ schemaVersion: 1, entries: Object.fromEntries(stored) })}\n`;
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text);
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    for (const [path, entry] of kept) if (!this.entries.has(path)) this.entries.set(path, entry);
    this.dirty.clear();
  }

  private isFresh(entry: Entry, stat: BigIntStats): boolean {
    return (
      stat.mtimeNs === entry.mtimeNs &&
      stat.ino === entry.ino &&
      Number(stat.size) === entry.size &&
      stat.isFile() &&
      Number(stat.mtimeNs / 1_000_000n) < entry.hashedAtMs - RACY_WINDOW_MS
    );
  }
}

function toFileHash(file: HashedFile): FileHash {
  return { hash: file.hash, size: file.size, mode: file.mode & 0o777 };
}

function absolutePath(path: string): string {
  return sep === '/' && isAbsolute(path) && !/\/\.{0,2}(\/|$)/.test(path) ? path : resolve(path);
}

function statOrUndefined(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

async function readEntries(file: string): Promise<Map<string, Entry>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
  if (typeof parsed !== 'object' || parsed === null) return new Map();
  const { schemaVersion, entries } = parsed as { schemaVersion?: unknown; entries?: unknown };
  if (schemaVersion !== 1 || typeof entries !== 'object' || entries === null) return new Map();
  const loaded = new Map<string, Entry>();
  for (const [path, stored] of Object.entries(entries)) {
    if (!isStoredEntry(stored)) continue;
    const [hash, size, mtimeNs, ino, mode, hashedAtMs] = stored;
    loaded.set(path, { hash, size, mtimeNs: BigInt(mtimeNs), ino: BigInt(ino), mode, hashedAtMs });
  }
  return loaded;
}

function isStoredEntry(value: unknown): value is StoredEntry {
  return (
    Array.isArray(value) &&
    value.length === 6 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'number' &&
    typeof value[2] === 'string' &&
    /^-?\d+$/.test(value[2]) &&
    typeof value[3] === 'string' &&
    /^-?\d+$/.test(value[3]) &&
    typeof value[4] === 'number' &&
    typeof value[5] === 'number'
  );
}
