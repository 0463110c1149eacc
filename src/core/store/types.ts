import type { FileHasher } from '../hash/stat-cache.js';
import type { CacheCorruptError } from './errors.js';

/**
 * How a restore places a cache object at its destination (mlpipe.yaml `cache.type`, DVC's): a
 * reflink (copy-on-write clone: a file of its own, sharing blocks until written), a read-only hard
 * link (the cache's own inode: nothing copied), or a copy.
 */
export type CacheLinkType = 'reflink' | 'hardlink' | 'copy';
export const CACHE_LINK_TYPES: readonly CacheLinkType[] = ['reflink', 'hardlink', 'copy'];

/** How {@link ObjectStore.get} writes an object. */
export interface GetOptions {
  /** Hard-link the object where the store and the file system allow (it is then read-only); copy otherwise. Same as `types: ['hardlink', 'reflink', 'copy']`. */
  link?: boolean;
  /** The ways to place the object, tried in order until one works (a copy is the last resort); overrides `link`. Default: reflink, copy. Executable files are never hard-linked. */
  types?: readonly CacheLinkType[];
  /** File mode of a copy (default 0644). */
  mode?: number;
  /** Hash the bytes before they are used: a mismatch is a {@link CacheCorruptError}, never a written file. */
  verify?: boolean;
  /** The size the caller expects; a different size is a {@link CacheCorruptError}. */
  size?: number;
  /** With `verify`, hashes a local object through this (the stat cache): one unchanged since it was last hashed is not read again. */
  hasher?: FileHasher;
}

/**
 * A content-addressed store: objects by digest, manifests by cache key. The local folder
 * (`runs/cache`) and the remotes (a plain folder, S3) implement it, so the run cache, push and
 * pull speak to all of them alike. Manifests are opaque text here; `core/cache` encodes and
 * decodes them. An object or manifest appears whole or not at all.
 */
export interface ObjectStore {
  /** Where the store is, for messages: a folder or `s3://bucket/prefix`. */
  readonly location: string;
  has(digest: string): Promise<boolean>;
  /** Which of `digests` the store holds, asked in batches where the backend allows. */
  hasMany(digests: readonly string[]): Promise<Set<string>>;
  /** Adds the file at `src` under its digest. `move` lets a local store take the file itself. */
  put(digest: string, src: string, opts: { size: number; move?: boolean }): Promise<void>;
  /** Writes the object to `dest`; throws {@link MissingObjectError} when it is not there. */
  get(digest: string, dest: string, opts?: GetOptions): Promise<void>;
  list(): AsyncIterable<string>;
  delete(digest: string): Promise<void>;
  /** The manifest text stored under `key`, or undefined when there is none. */
  getManifest(key: string): Promise<string | undefined>;
  putManifest(key: string, text: string): Promise<void>;
  listManifests(): AsyncIterable<string>;
  deleteManifest(key: string): Promise<void>;
  /**
   * Told that the entry under `key` (naming `digests`) was restored: a store in front of a remote
   * (ReadThroughStore) keeps the entry locally, objects first, so the next run finds it without the remote.
   */
  adopt?(key: string, digests: readonly string[]): Promise<void>;
}

/**
 * What `mlpipe gc`, `mlpipe cache verify` and the recovery after a killed run need besides
 * {@link ObjectStore}: ages, hashing in place, quarantine, age-guarded removal and temp clean-up.
 */
export interface StoreMaintenance {
  /** Size and modification time (epoch ms) of an object, undefined when absent. */
  stat(digest: string): Promise<{ size: number; mtimeMs: number } | undefined>;
  /** Modification time (epoch ms) of a manifest, undefined when absent. */
  manifestMtime(key: string): Promise<number | undefined>;
  /** Hashes an object in place; a mismatch moves it to quarantine and is returned. Undefined when sound or gone. */
  verify(digest: string): Promise<CacheCorruptError | undefined>;
  /** Moves a manifest to quarantine; returns where, or undefined when it was gone. */
  quarantineManifest(key: string): Promise<string | undefined>;
  /** Deletes an object unless it was stored or used at or after `cutoffMs`; returns the bytes freed, or undefined when kept or absent. */
  removeIfOlderThan(digest: string, cutoffMs: number): Promise<number | undefined>;
  /** {@link removeIfOlderThan} for a manifest; true when it was removed. */
  removeManifestIfOlderThan(key: string, cutoffMs: number): Promise<boolean>;
  /** Deletes temp files that processes which are gone left behind; returns how many. */
  removeStaleTemps(isAlive: (pid: number) => boolean): Promise<number>;
}

/** A store that can also be maintained (the local cache, a folder remote). */
export type MaintainableStore = ObjectStore & StoreMaintenance;

/** What opens a remote cache (`openRemoteStore`): its URL and, for S3, where and how to reach it (never credentials). */
export interface RemoteSettings {
  /** s3://BUCKET/PREFIX, file://PATH, or a folder path. */
  url: string;
  /** An S3-compatible server's endpoint (http://127.0.0.1:9000); default AWS, or AWS_ENDPOINT_URL_S3. */
  endpoint?: string;
  region?: string;
  /** Bucket in the path rather than the host name; default: true when an endpoint is given. */
  pathStyle?: boolean;
  /** The AWS profile whose credentials are used; default: the standard chain. */
  profile?: string;
}
