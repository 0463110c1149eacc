import { forEachLimit } from '../async/for-each-limit.js';
import type { ObjectStore } from '../store/types.js';

/** A file to upload under its content hash. */
export interface FileToPush {
  hash: string;
  size: number;
  /** Where the bytes are now. */
  path: string;
}

const PARALLEL = 8;

/**
 * Uploads to `remote` the files it lacks: one batched existence check, then a bounded parallel
 * transfer (DVC's push). Returns how many were uploaded.
 */
export async function pushMissingFiles(remote: ObjectStore, files: readonly FileToPush[]): Promise<number> {
  const unique = [...new Map(files.map((f) => [f.hash, f])).values()];
  const present = await remote.hasMany(unique.map((f) => f.hash));
  const missing = unique.filter((f) => !present.has(f.hash));
  await forEachLimit(missing, PARALLEL, (f) => remote.put(f.hash, f.path, { size: f.size }));
  return missing.length;
}
