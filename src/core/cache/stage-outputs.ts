import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { hashPath } from '../hash/hash-path.js';
import { uncachedHasher, type FileHasher } from '../hash/stat-cache.js';
import type { ManifestFile, OutputManifest } from '../hash/path-manifest.js';
import type { CacheLinkType, ObjectStore } from '../store/types.js';
import { forEachLimit } from '../async/for-each-limit.js';
import { digestsOf, isSafeOutputPath } from './manifest.js';

/** An output to store: `move` lets the store take the files (a run's temp folder); otherwise they are copied (workspace `outs`). */
export interface OutputSource {
  path: string;
  move: boolean;
}

/** Where to recreate an output; `link` hard-links files from the store where possible (they are then read-only). */
export interface OutputTarget {
  path: string;
  link: boolean;
  /** How each file is placed, in order of preference (overrides `link`; see GetOptions.types). */
  types?: readonly CacheLinkType[];
}

const PARALLEL_FILES = 16;

/** How {@link restoreOutputs} checks what it uses. */
export interface RestoreOptions {
  /** Check every object's bytes against its digest before it is used. */
  verify?: boolean;
  /**
   * Hashes through the stat cache: a target whose files already match the manifest is not
   * rewritten (a no-op run does no work: same inode, same mtime), and objects unchanged since
   * they were last hashed are verified without being read again.
   */
  hasher?: FileHasher;
}

/**
 * Hashes each output (file or folder) and puts every file into the store. Copied outputs are
 * hashed through `statCache`; moved ones afresh, since their paths vanish. Returns each output's manifest.
 */
export async function commitOutputs(
  store: ObjectStore,
  statCache: FileHasher,
  outputs: Record<string, OutputSource>,
): Promise<Record<string, OutputManifest>> {
  const settled = await Promise.allSettled(
    Object.entries(outputs).map(async ([name, output]) => {
      const manifest = await hashPath(output.path, output.move ? uncachedHasher : statCache);
      await forEachLimit(manifest.files, PARALLEL_FILES, (file) =>
        store.put(file.hash, fileIn(output.path, manifest, file), { size: file.size, move: output.move }),
      );
      return [name, manifest] as const;
    }),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return Object.fromEntries(settled.map((r) => (r as PromiseFulfilledResult<readonly [string, OutputManifest]>).value));
}

/**
 * Recreates each output at its target, replacing whatever is there: a folder output becomes
 * exactly the manifest's files. Each output is built in a temp sibling and renamed into place, so
 * a half-restored output never appears; on failure every output has settled before it throws.
 * `verify` hashes each object first: a corrupt one is quarantined and a CacheCorruptError thrown. Copies get mode 0755 when the manifest marks the file
 * executable, 0644 otherwise; executable files are always copied, never linked. With a `hasher`,
 * an output already at its target with the manifest's files is left alone (DVC's checkout does the same).
 */
export async function restoreOutputs(
  store: ObjectStore,
  manifests: Record<string, OutputManifest>,
  dests: Record<string, OutputTarget>,
  opts: RestoreOptions = {},
): Promise<void> {
  const missing = Object.keys(manifests).filter((name) => !dests[name]);
  if (missing.length > 0) throw new TypeError(`restoreOutputs: no destination given for output ${missing.join(', ')}`);
  const settled = await Promise.allSettled(
    Object.entries(manifests).map(([name, manifest]) => restoreOne(store, manifest, dests[name]!, opts)),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Whether every object the output manifests name is in the store (one batched question). */
export async function outputsAvailable(store: ObjectStore, outputs: Record<string, OutputManifest>): Promise<boolean> {
  const digests = digestsOf({ outputs });
  const present = await store.hasMany(digests);
  return digests.every((digest) => present.has(digest));
}

async function restoreOne(store: ObjectStore, manifest: OutputManifest, dest: OutputTarget, opts: RestoreOptions): Promise<void> {
  const target = resolve(dest.path);
  if (opts.hasher && (await holdsManifest(target, manifest, opts.hasher))) return;
  const verify = opts.verify === true;
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `.${basename(target)}.restore-${randomBytes(6).toString('hex')}`);
  const put = (file: ManifestFile, path: string) =>
    store.get(file.hash, path, {
      link: dest.link,
      ...(dest.types ? { types: dest.types } : {}),
      mode: file.mode & 0o111 ? 0o755 : 0o644,
      size: file.size,
      verify,
      hasher: opts.hasher,
    });
  try {
    if (manifest.type === 'file') {
      const [file, ...extra] = manifest.files;
      if (!file || extra.length > 0) throw new TypeError(`A file output must list one file, got ${manifest.files.length}`);
      await put(file, temp);
    } else {
      const unsafe = manifest.files.find((file) => !isSafeOutputPath(file.path));
      if (unsafe) throw new TypeError(`Unsafe path in an output manifest: ${JSON.stringify(unsafe.path)}`);
      await mkdir(temp);
      const folders = new Set(manifest.files.filter((file) => file.path.includes('/')).map((file) => dirname(file.path)));
      for (const folder of [...folders].sort()) await mkdir(join(temp, folder), { recursive: true });
      await forEachLimit(manifest.files, PARALLEL_FILES, (file) => put(file, join(temp, file.path)));
    }
    await replace(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function replace(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target);
    return;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
  }
  const aside = join(dirname(target), `.${basename(target)}.old-${randomBytes(6).toString('hex')}`);
  await rename(target, aside);
  try {
    await rename(temp, target);
  } catch (error) {
    await rename(aside, target);
    throw error;
  }
  await rm(aside, { recursive: true, force: true });
}

function fileIn(root: string, manifest: OutputManifest, file: ManifestFile): string {
  return manifest.type === 'file' ? root : join(root, file.path);
}

/**
 * Whether `target` already is the manifest's output: a regular file or a real folder (not a
 * symlink, which a restore replaces) whose files have the manifest's paths, hashes and executable
 * bits, hashed through the stat cache (an unchanged file is only stat'ed).
 */
async function holdsManifest(target: string, manifest: OutputManifest, hasher: FileHasher): Promise<boolean> {
  const stats = await lstat(target).catch(() => undefined);
  if (!stats || (manifest.type === 'file' ? !stats.isFile() : !stats.isDirectory())) return false;
  const here = await hashPath(target, hasher).catch(() => undefined);
  if (!here || here.type !== manifest.type || here.digest !== manifest.digest || here.files.length !== manifest.files.length) return false;
  return here.files.every((file, i) => {
    const want = manifest.files[i]!;
    return file.path === want.path && file.hash === want.hash && (file.mode & 0o111 ? 1 : 0) === (want.mode & 0o111 ? 1 : 0);
  });
}
