import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ManifestFile, OutputManifest } from './path-manifest.js';
import { jsonDigest } from './canonical-json.js';
import { FileHashError } from './hash-file.js';
import type { FileHash, FileHasher } from './stat-cache.js';

/** A path that should exist (a stage input or output, or a symlink's target) does not. */
export class MissingPathError extends Error {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} does not exist. Check the path in the pipeline, or run the stage that produces it.`, options);
    this.name = 'MissingPathError';
  }
}

/** A path that cannot be content-hashed: a symlink leaving its folder, a symlink loop, or a special file. */
export class UnhashablePathError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot hash ${path}: ${reason}.`, options);
    this.name = 'UnhashablePathError';
  }
}

interface Found {
  rel: string;
  abs: string;
}

/**
 * The manifest of a file or folder. A folder lists every regular file below it (symlinks are
 * followed while they stay inside it), sorted by relative POSIX path; its digest is the SHA-256
 * of the canonical JSON of `[[path, hash, executable ? 1 : 0], …]`. A file's digest is its hash.
 */
export async function hashPath(path: string, hasher: FileHasher): Promise<OutputManifest> {
  const absolute = resolve(path);
  const stats = await stat(absolute).catch((error: unknown) => {
    throw isMissing(error) ? new MissingPathError(path, { cause: error }) : error;
  });
  if (stats.isFile()) {
    const [file] = await hashAll(hasher, [absolute]);
    return { type: 'file', digest: file!.hash, files: [{ path: '', ...file! }] };
  }
  if (!stats.isDirectory()) throw new UnhashablePathError(path, 'it is neither a regular file nor a folder');
  const root = await realpath(absolute);
  const found: Found[] = [];
  await walk(root, absolute, root, '', [root], found);
  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const hashes = await hashAll(hasher, found.map((entry) => entry.abs));
  const files: ManifestFile[] = found.map((entry, i) => ({ path: entry.rel, ...hashes[i]! }));
  return { type: 'dir', digest: dirDigest(files), files };
}

/** The digest of a folder from its (sorted) file list. */
export function dirDigest(files: ManifestFile[]): string {
  return jsonDigest(files.map((file) => [file.path, file.hash, file.mode & 0o111 ? 1 : 0]));
}

async function walk(root: string, dir: string, real: string, rel: string, ancestors: string[], found: Found[]): Promise<void> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const abs = join(dir, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isFile()) found.push({ rel: childRel, abs });
      else if (entry.isDirectory()) {
        const childReal = join(real, entry.name);
        await walk(root, abs, childReal, childRel, [...ancestors, childReal], found);
      }
      else if (entry.isSymbolicLink()) await followLink(root, abs, childRel, ancestors, found);
      else throw new UnhashablePathError(abs, 'it is a special file (socket, FIFO or device)');
    }),
  );
}

async function followLink(root: string, abs: string, rel: string, ancestors: string[], found: Found[]): Promise<void> {
  const target = await realpath(abs).catch((error: unknown) => {
    throw isMissing(error) ? new MissingPathError(abs, { cause: error }) : error;
  });
  if (target !== root && !target.startsWith(root + sep)) {
    throw new UnhashablePathError(abs, `it is a symlink to ${target}, outside ${root}; copy the file in instead`);
  }
  const stats = await stat(target);
  if (stats.isFile()) found.push({ rel, abs });
  else if (stats.isDirectory()) {
    if (ancestors.includes(target)) throw new UnhashablePathError(abs, 'it is a symlink loop');
    await walk(root, abs, target, rel, [...ancestors, target], found);
  } else throw new UnhashablePathError(abs, 'it links to a special file (socket, FIFO or device)');
}

async function hashAll(hasher: FileHasher, paths: string[]): Promise<FileHash[]> {
  try {
    return await hasher.hashAll(paths);
  } catch (error) {
    if (error instanceof FileHashError && error.code === 'ENOENT') throw new MissingPathError(error.path, { cause: error });
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
