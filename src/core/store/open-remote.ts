import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore } from './types.js';

/**
 * The remote cache a URL names: a folder (a path or `file://…`, e.g. a mounted network share)
 * laid out as the local cache is. Relative paths resolve against `cwd`.
 */
export function openRemoteStore(url: string, cwd = process.cwd()): ObjectStore {
  if (url.startsWith('file://')) return new LocalObjectStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new UserError(`unsupported remote ${url}: expected a folder (a path or file://…)`, { hint: 'give the remote cache as a folder every machine can reach, e.g. --remote /mnt/shared/mlpipe-cache' });
  }
  return new LocalObjectStore(isAbsolute(url) ? url : resolve(cwd, url));
}
