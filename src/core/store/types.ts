/**
 * The content-addressed store behind the cache. The local folder (`runs/cache`) is the one
 * implementation now; an S3-compatible store can implement the same interface later.
 */
export interface ManifestFile {
  /** Relative path inside the output ('' when the output is a single file). POSIX separators. */
  path: string;
  hash: string;
  size: number;
  mode: number;
}

export interface OutputManifest {
  type: 'file' | 'dir';
  /** Digest of the whole output: a file's hash, or the hash of a folder's sorted listing. */
  digest: string;
  files: ManifestFile[];
}

/** What one stage execution produced, stored under its cache key. */
export interface StageManifest {
  schemaVersion: 1;
  key: string;
  stage: string;
  kind: string;
  /** The run that executed the stage. */
  runId: string;
  createdAt: number;
  outputs: Record<string, OutputManifest>;
  metrics: Record<string, number>;
}

export interface ObjectStore {
  readonly root: string;
  has(digest: string): Promise<boolean>;
  /** Adds a file under its digest atomically (temp + fsync + rename). `move` lets the store take the file itself. */
  putFile(src: string, digest: string, size: number, opts?: { move?: boolean }): Promise<void>;
  /** Writes the object to `dest` (hard link when `link` and possible, copy otherwise); checks size, and the hash when `verify`. */
  materialize(digest: string, dest: string, opts: { link: boolean; mode?: number; verify?: boolean; size?: number }): Promise<void>;
  getManifest(key: string): Promise<StageManifest | undefined>;
  putManifest(manifest: StageManifest): Promise<void>;
  listDigests(): AsyncIterable<string>;
  listManifestKeys(): AsyncIterable<string>;
  deleteObject(digest: string): Promise<void>;
  deleteManifest(key: string): Promise<void>;
}
