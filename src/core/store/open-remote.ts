import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { LocalObjectStore } from './local-store.js';
import type { MaintainableStore, RemoteSettings } from './types.js';

/**
 * The remote cache a URL names: `s3://BUCKET/PREFIX` (AWS or an S3-compatible server; the AWS SDK
 * is loaded only then), or a folder (a path or `file://…`, e.g. a mounted network share) laid out
 * as the local cache is. Relative paths resolve against `cwd`.
 */
export async function openRemoteStore(remote: string | RemoteSettings, cwd = process.cwd()): Promise<MaintainableStore> {
  const settings = typeof remote === 'string' ? { url: remote } : remote;
  const { url } = settings;
  if (/^s3:\/\//i.test(url)) {
    const { S3ObjectStore } = await import('./s3-store.js');
    return new S3ObjectStore(settings);
  }
  if (url.startsWith('file://')) return new LocalObjectStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new UserError(`unsupported remote ${url}: expected s3://BUCKET/PREFIX or a folder (a path or file://…)`, {
      hint: 'give the remote cache as s3://BUCKET/PREFIX or a folder every machine can reach, e.g. --remote /mnt/shared/mlpipe-cache',
    });
  }
  return new LocalObjectStore(isAbsolute(url) ? url : resolve(cwd, url));
}
