import { randomBytes } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { chmod, copyFile, link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { hashFile } from '../hash/hash-file.js';
import { CacheCorruptError, InvalidDigestError, MissingObjectError, SourceChangedError, StoreWriteError } from './errors.js';
import { injectFaultForTest, pauseForTest } from './test-hooks.js';
import type { GetOptions, MaintainableStore } from './types.js';

const HEX = /^[0-9a-f]{3,}$/;

function isFileSync(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
const LINK_FALLBACK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EACCES']);

/** The cache store of a runs folder: `<runsDir>/cache`. */
export function openLocalStore(runsDir: string): LocalObjectStore {
  return new LocalObjectStore(join(resolve(runsDir), 'cache'));
}

/**
 * A content-addressed store in a folder: a runs folder's `cache/` or a folder remote:
 * ```
 * objects/ab/cdef…          read-only (0444) file contents, named by digest
 * manifests/ab/abcd….json   StageManifest per cache key (canonical JSON)
 * tmp/                      staging; everything enters by rename from here
 * quarantine/               objects found corrupt, kept for inspection
 * ```
 * Safe for several processes at once: an object or manifest appears whole or not at all, and
 * when two writers race for one object the first one stays. An object's mtime is the last time a
 * run stored or restored it; `mlpipe gc` never deletes what was renewed after its cutoff.
 */
export class LocalObjectStore implements MaintainableStore {
  readonly root: string;

  /** `root` is the store's own folder (`runs/cache`, or a remote folder); see {@link openLocalStore}. */
  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  /** Where the object with this digest lives. */
  objectPath(digest: string): string {
    checkHex(digest);
    return join(this.root, 'objects', digest.slice(0, 2), digest.slice(2));
  }

  /** Where the manifest with this cache key lives. */
  manifestPath(key: string): string {
    checkHex(key);
    return join(this.root, 'manifests', key.slice(0, 2), `${key}.json`);
  }

  async has(digest: string): Promise<boolean> {
    return (await statOrUndefined(this.objectPath(digest)))?.isFile() ?? false;
  }

  /** One synchronous stat per object (a 5,000-file output's check took 0.3 s as promises), yielding to the event loop every 256. */
  async hasMany(digests: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < digests.length; i++) {
      if (i > 0 && i % 256 === 0) await yieldToLoop();
      if (isFileSync(this.objectPath(digests[i]!))) found.add(digests[i]!);
    }
    return found;
  }

  async put(digest: string, src: string, opts: { size: number; move?: boolean }): Promise<void> {
    const size = opts.size;
    const dest = this.objectPath(digest);
    const existing = await statOrUndefined(dest);
    if (existing?.size === size && (await touch(dest))) return;
    if (existing && existing.size !== size) await this.quarantine(digest);
    await this.writing(src, async (temp) => {
      await stageFile(src, temp, opts.move === true);
      const handle = await open(temp, 'r+');
      try {
        const { size: got } = await handle.stat();
        if (got !== size) throw new SourceChangedError(src, `${size} bytes`, `${got} bytes`);
        await handle.chmod(0o444);
        const now = new Date();
        await handle.utimes(now, now);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (!opts.move) {
        const actual = await hashFile(temp);
        if (actual !== digest) throw new SourceChangedError(src, `bytes hashing to ${digest}`, `bytes hashing to ${actual}`);
      }
      injectFaultForTest('store-object', temp);
      await pauseForTest('store-object');
      await mkdir(dirname(dest), { recursive: true });
      await publish(temp, dest);
    });
  }

  async get(digest: string, dest: string, opts: GetOptions = {}): Promise<void> {
    const object = this.objectPath(digest);
    const stats = await statOrUndefined(object);
    if (!stats?.isFile()) throw new MissingObjectError(digest, object);
    if (opts.size !== undefined && stats.size !== opts.size) {
      throw await this.corrupt(digest, `${opts.size} bytes`, `${stats.size} bytes`);
    }
    if (opts.verify) {
      const actual = opts.hasher ? (await opts.hasher.hashAll([object]))[0]!.hash : await hashFile(object);
      if (actual !== digest) throw await this.corrupt(digest, 'bytes with that hash', `bytes hashing to ${actual}`);
      await touch(object);
    }
    await rm(dest, { force: true });
    const executable = opts.mode !== undefined && (opts.mode & 0o111) !== 0;
    const types = opts.types ?? (opts.link ? (['hardlink', 'reflink', 'copy'] as const) : (['reflink', 'copy'] as const));
    for (const [i, type] of types.entries()) {
      if (type === 'copy') break;
      if (type === 'hardlink' && executable) continue;
      // reflink then copy is one call (the kernel clones where it can, else copies): the fallback below
      if (type === 'reflink' && !types.slice(i + 1).includes('hardlink')) break;
      try {
        // a hard link is the object itself (read-only, 0444); a reflink a file of its own
        if (type === 'hardlink') await link(object, dest);
        else {
          await copyFile(object, dest, constants.COPYFILE_FICLONE_FORCE);
          await chmod(dest, opts.mode ?? 0o644);
        }
        return;
      } catch (error) {
        if (codeOf(error) === 'ENOENT' && !(await statOrUndefined(object))) throw new MissingObjectError(digest, object, { cause: error });
        if (!LINK_FALLBACK.has(codeOf(error)) && codeOf(error) !== 'EINVAL' && codeOf(error) !== 'ENOENT') throw error;
        await rm(dest, { force: true });
      }
    }
    try {
      await copyFile(object, dest, constants.COPYFILE_FICLONE);
    } catch (error) {
      if (codeOf(error) === 'ENOENT' && !(await statOrUndefined(object))) throw new MissingObjectError(digest, object, { cause: error });
      throw error;
    }
    await chmod(dest, opts.mode ?? 0o644);
  }

  async getManifest(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.manifestPath(key), 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async putManifest(key: string, text: string): Promise<void> {
    const path = this.manifestPath(key);
    await this.writing(path, async (temp) => {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      injectFaultForTest('store-manifest', temp);
      await pauseForTest('store-manifest');
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
    });
  }

  async *list(): AsyncIterable<string> {
    const objects = join(this.root, 'objects');
    for (const prefix of await listNames(objects)) {
      for (const rest of await listNames(join(objects, prefix))) {
        if (prefix.length === 2 && HEX.test(prefix + rest)) yield prefix + rest;
      }
    }
  }

  async *listManifests(): AsyncIterable<string> {
    const manifests = join(this.root, 'manifests');
    for (const prefix of await listNames(manifests)) {
      for (const name of await listNames(join(manifests, prefix))) {
        const key = name.slice(0, -'.json'.length);
        if (name.endsWith('.json') && key.startsWith(prefix) && HEX.test(key)) yield key;
      }
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.objectPath(digest), { force: true });
  }

  async deleteManifest(key: string): Promise<void> {
    await rm(this.manifestPath(key), { force: true });
  }

  /**
   * Hashes the object; when its bytes do not match its digest it is moved to quarantine.
   * Returns undefined when it is sound (or has gone meanwhile), else the corruption.
   */
  async verify(digest: string): Promise<CacheCorruptError | undefined> {
    let actual: string;
    try {
      actual = await hashFile(this.objectPath(digest));
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
    return actual === digest ? undefined : this.corrupt(digest, 'bytes with that hash', `bytes hashing to ${actual}`);
  }

  /** Moves a manifest to quarantine (`manifest-KEY.json.TIME.RANDOM`). */
  async quarantineManifest(key: string): Promise<string | undefined> {
    return this.moveToQuarantine(this.manifestPath(key), `manifest-${key}.json`);
  }

  async stat(digest: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    const stats = await statOrUndefined(this.objectPath(digest));
    return stats?.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
  }

  async manifestMtime(key: string): Promise<number | undefined> {
    return (await statOrUndefined(this.manifestPath(key)))?.mtimeMs;
  }

  /**
   * Deletes an object unless it was stored or used at or after `cutoffMs` (its mtime; every put
   * and verified restore renews it). The object is renamed aside first and its mtime checked
   * again there, so a run that renews it at the same moment keeps it. Returns the bytes freed,
   * or undefined when it was kept or absent.
   */
  async removeIfOlderThan(digest: string, cutoffMs: number): Promise<number | undefined> {
    return this.removePathIfOlderThan(this.objectPath(digest), cutoffMs);
  }

  /** {@link removeIfOlderThan} for a manifest (renewed whenever a run writes it). */
  async removeManifestIfOlderThan(key: string, cutoffMs: number): Promise<boolean> {
    return (await this.removePathIfOlderThan(this.manifestPath(key), cutoffMs)) !== undefined;
  }

  /**
   * Deletes what processes of this host that are gone left in `tmp/` (a killed run's half-written
   * objects and manifests) and their stat-cache temp files. Returns how many entries went.
   */
  async removeStaleTemps(isAlive: (pid: number) => boolean): Promise<number> {
    let removed = 0;
    const dead = (name: string, pattern: RegExp) => {
      const pid = Number(pattern.exec(name)?.[1]);
      return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
    };
    for (const name of await listNames(join(this.root, 'tmp'))) {
      if (!dead(name, /^(?:gc-)?(\d+)-[0-9a-f]+$/)) continue;
      await rm(join(this.root, 'tmp', name), { recursive: true, force: true });
      removed++;
    }
    for (const name of await listNames(this.root)) {
      if (!dead(name, /^stat-cache\.json\.(\d+)\.[0-9a-f]+\.tmp$/)) continue;
      await rm(join(this.root, name), { force: true });
      removed++;
    }
    return removed;
  }

  private async removePathIfOlderThan(path: string, cutoffMs: number): Promise<number | undefined> {
    const before = await statOrUndefined(path);
    if (!before || before.mtimeMs >= cutoffMs) return undefined;
    const aside = await this.tempPath('gc-');
    try {
      await rename(path, aside);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
    const after = await stat(aside);
    if (after.mtimeMs >= cutoffMs) {
      await publish(aside, path);
      await rm(aside, { force: true });
      return undefined;
    }
    await rm(aside, { force: true });
    return after.size;
  }

  /** Runs `write` with a fresh temp path in `tmp/`, which is always removed afterwards; a full or unwritable disk becomes a {@link StoreWriteError}. */
  private async writing(what: string, write: (temp: string) => Promise<void>): Promise<void> {
    let temp: string | undefined;
    try {
      temp = await this.tempPath();
      await write(temp);
    } catch (error) {
      if (StoreWriteError.isMachineProblem(error)) throw new StoreWriteError(this.root, error.code, { what, cause: error });
      throw error;
    } finally {
      if (temp) await rm(temp, { force: true });
    }
  }

  private async corrupt(digest: string, expected: string, got: string): Promise<CacheCorruptError> {
    return new CacheCorruptError(digest, expected, got, await this.quarantine(digest));
  }

  private async quarantine(digest: string): Promise<string | undefined> {
    return this.moveToQuarantine(this.objectPath(digest), digest);
  }

  private async moveToQuarantine(path: string, name: string): Promise<string | undefined> {
    const folder = join(this.root, 'quarantine');
    await mkdir(folder, { recursive: true });
    const target = join(folder, `${name}.${Date.now()}.${randomBytes(3).toString('hex')}`);
    try {
      await rename(path, target);
      return target;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async tempPath(prefix = ''): Promise<string> {
    const folder = join(this.root, 'tmp');
    await mkdir(folder, { recursive: true });
    return join(folder, `${prefix}${process.pid}-${randomBytes(8).toString('hex')}`);
  }

}

async function stageFile(src: string, temp: string, move: boolean): Promise<void> {
  if (move) {
    const stats = await lstat(src);
    if (stats.isFile() && stats.nlink === 1) {
      try {
        await rename(src, temp);
        return;
      } catch (error) {
        if (codeOf(error) !== 'EXDEV') throw error;
      }
    }
  }
  await copyFile(src, temp, constants.COPYFILE_FICLONE);
}

/** Renews a file's mtime (gc keeps what was used recently); false when the file has gone. */
async function touch(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (error) {
    return codeOf(error) !== 'ENOENT';
  }
}

async function publish(temp: string, dest: string): Promise<void> {
  try {
    await link(temp, dest);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EEXIST') return;
    if (!LINK_FALLBACK.has(code)) throw error;
    await rename(temp, dest);
  }
}

function checkHex(value: string): void {
  if (!HEX.test(value)) throw new InvalidDigestError(value);
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function listNames(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).sort();
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return [];
    throw error;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}
