import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachLimit } from '../async/for-each-limit.js';
import { pauseForTest } from '../store/test-hooks.js';
import type { ObjectStore } from '../store/types.js';
import { CacheCorruptError, MissingObjectError, SourceChangedError } from '../store/errors.js';
import { decodeManifest, digestsOf, type StageManifest } from './manifest.js';

/** What {@link copyEntries} did, by entry and by object. */
export interface CopyResult {
  /** Entries whose manifest was written to the target. */
  copied: string[];
  /** Entries the target already had (a complete entry: its manifest went last). */
  present: string[];
  /** Entries the source does not have (a `cache: false` stage's key, or one gc removed). */
  absent: string[];
  /** Entries the source holds but that could not be copied (an unreadable manifest, a missing or corrupt object), with why. */
  unavailable: { key: string; reason: string }[];
  objects: { copied: number; present: number };
  /** Bytes of the objects copied. */
  bytes: number;
}

/** Options for {@link copyEntries}. */
export interface CopyOptions {
  /** Objects in flight at once (default 8). */
  jobs?: number;
  /** After each object copied: objects and bytes done of the totals to copy. */
  onProgress?: (progress: { done: number; total: number; bytes: number; totalBytes: number }) => void;
}

/** A store whose objects are files here (the local cache, a folder remote): uploads read them in place. */
interface FileBacked {
  objectPath(digest: string): string;
}

/**
 * Copies cache entries (manifest and the objects it names) between two stores: `mlpipe push`
 * (local → remote) and `pull` (remote → local) alike, DVC's push/pull. Entries the target holds are
 * skipped; of the rest, one batched question finds the objects the target lacks, those are copied
 * with bounded parallelism (a download verified against its digest first), and only then the
 * manifests are written (an entry one of whose objects is missing or corrupt in the source is left
 * out, with why): an interrupted copy leaves objects without a manifest, never a manifest
 * naming a missing object, and the next copy sends only what did not arrive.
 */
export async function copyEntries(from: ObjectStore, to: ObjectStore, keys: readonly string[], opts: CopyOptions = {}): Promise<CopyResult> {
  const result: CopyResult = { copied: [], present: [], absent: [], unavailable: [], objects: { copied: 0, present: 0 }, bytes: 0 };
  const todo: { key: string; text: string; manifest: StageManifest }[] = [];
  await forEachLimit([...new Set(keys)], opts.jobs ?? 8, async (key) => {
    if ((await to.getManifest(key)) !== undefined) {
      result.present.push(key);
      return;
    }
    const text = await from.getManifest(key);
    if (text === undefined) {
      result.absent.push(key);
      return;
    }
    const decoded = decodeManifest(text, key);
    if (!decoded.ok) result.unavailable.push({ key, reason: `its manifest in ${from.location} ${decoded.problem}` });
    else todo.push({ key, text, manifest: decoded.manifest });
  });
  const sizes = new Map<string, number>();
  for (const { manifest } of todo) for (const out of Object.values(manifest.outputs)) for (const f of out.files) sizes.set(f.hash, f.size);
  const present = await to.hasMany([...sizes.keys()]);
  const missing = [...sizes].filter(([digest]) => !present.has(digest));
  result.objects.present = sizes.size - missing.length;
  const totalBytes = missing.reduce((sum, [, size]) => sum + size, 0);
  const failed = new Map<string, string>();
  await forEachLimit(missing, opts.jobs ?? 8, async ([digest, size]) => {
    try {
      await copyObject(from, to, digest, size);
    } catch (error) {
      if (!(error instanceof MissingObjectError || error instanceof CacheCorruptError)) throw error;
      failed.set(digest, error.message);
      return;
    }
    result.objects.copied++;
    result.bytes += size;
    opts.onProgress?.({ done: result.objects.copied, total: missing.length, bytes: result.bytes, totalBytes });
  });
  await pauseForTest('copy-manifests');
  for (const { key, text, manifest } of todo.sort((a, b) => a.key.localeCompare(b.key))) {
    const broken = digestsOf(manifest).find((d) => failed.has(d));
    if (broken) {
      result.unavailable.push({ key, reason: failed.get(broken)! });
      continue;
    }
    await to.putManifest(key, text);
    result.copied.push(key);
  }
  result.present.sort();
  result.absent.sort();
  result.unavailable.sort((a, b) => a.key.localeCompare(b.key));
  return result;
}

async function copyObject(from: ObjectStore, to: ObjectStore, digest: string, size: number): Promise<void> {
  if (isFileBacked(from)) {
    if (!(await from.has(digest))) throw new MissingObjectError(digest, from.objectPath(digest));
    try {
      await to.put(digest, from.objectPath(digest), { size });
    } catch (error) {
      // the target hashes what it stores: a source object whose bytes do not match its digest is corrupt there (left in place: it is not this copy's to quarantine)
      if (error instanceof SourceChangedError) throw new CacheCorruptError(digest, error.expected, error.got, undefined, { cause: error });
      throw error;
    }
    return;
  }
  const folder = join(tmpdir(), 'mlpipe-transfer');
  await mkdir(folder, { recursive: true });
  const temp = join(folder, `${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await from.get(digest, temp, { verify: true, size });
    await to.put(digest, temp, { size: (await stat(temp)).size, move: true });
  } finally {
    await rm(temp, { force: true });
  }
}

function isFileBacked(store: ObjectStore): store is ObjectStore & FileBacked {
  return typeof (store as Partial<FileBacked>).objectPath === 'function';
}
