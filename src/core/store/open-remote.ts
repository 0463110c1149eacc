import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore } from './types.js';

/** Settings of a remote beyond its URL (from mlpipe.yaml's `remotes:`): S3's; a folder remote has none. */
export interface RemoteStoreOptions {
  /** The S3 endpoint of an S3-compatible server, e.g. http://127.0.0.1:9000. */
  endpoint?: string;
  region?: string;
  /** Path-style bucket addressing (MinIO and most S3-compatible servers). */
  pathStyle?: boolean;
  /** The AWS profile whose credentials are used. */
  profile?: string;
}

/**
 * The remote cache a URL names: a folder (a path or `file://…`, e.g. a mounted network share)
 * laid out as the local cache is. Relative paths resolve against `cwd`. `options` are the remote's
 * settings from mlpipe.yaml (core/config resolves them: `remoteOptions(target)`).
 */
export function openRemoteStore(url: string, cwd = process.cwd(), _options: RemoteStoreOptions = {}): ObjectStore {
  if (url.startsWith('file://')) return new LocalObjectStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new UserError(`unsupported remote ${url}: expected a folder (a path or file://…)`, { hint: 'give the remote cache as a folder every machine can reach, e.g. --remote /mnt/shared/mlpipe-cache' });
  }
  return new LocalObjectStore(isAbsolute(url) ? url : resolve(cwd, url));
}
