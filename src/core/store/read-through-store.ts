import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { GetOptions, ObjectStore } from './types.js';

/**
 * The local cache in front of a remote: reads look locally first and fetch what is missing from
 * the remote into the local store (every object verified on the way), writes go to the local
 * store. The queue coordinator plans and restores through it, so a stage a worker completed (its
 * manifest and objects on the remote) is a cache hit on any machine.
 */
export class ReadThroughStore implements ObjectStore {
  constructor(
    readonly local: ObjectStore,
    readonly remote: ObjectStore,
  ) {}

  get location(): string {
    return `${this.local.location} (remote ${this.remote.location})`;
  }

  async has(digest: string): Promise<boolean> {
    return (await this.local.has(digest)) || this.remote.has(digest);
  }

  async hasMany(digests: readonly string[]): Promise<Set<string>> {
    const found = await this.local.hasMany(digests);
    const rest = digests.filter((d) => !found.has(d));
    if (rest.length > 0) for (const d of await this.remote.hasMany(rest)) found.add(d);
    return found;
  }

  put(digest: string, src: string, opts: { size: number; move?: boolean }): Promise<void> {
    return this.local.put(digest, src, opts);
  }

  async get(digest: string, dest: string, opts: GetOptions = {}): Promise<void> {
    if (!(await this.local.has(digest))) await this.fetch(digest, opts.size);
    await this.local.get(digest, dest, opts);
  }

  /** Copies one object from the remote into the local store, verified. */
  async fetch(digest: string, size?: number): Promise<void> {
    const dir = join(tmpdir(), 'mlpipe-fetch');
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await this.remote.get(digest, temp, { verify: true, size });
      await this.local.put(digest, temp, { size: (await stat(temp)).size, move: true });
    } finally {
      await rm(temp, { force: true });
    }
  }

  list(): AsyncIterable<string> {
    return this.local.list();
  }

  delete(digest: string): Promise<void> {
    return this.local.delete(digest);
  }

  async getManifest(key: string): Promise<string | undefined> {
    const local = await this.local.getManifest(key);
    if (local !== undefined) return local;
    return this.remote.getManifest(key);
  }

  putManifest(key: string, text: string): Promise<void> {
    return this.local.putManifest(key, text);
  }

  listManifests(): AsyncIterable<string> {
    return this.local.listManifests();
  }

  deleteManifest(key: string): Promise<void> {
    return this.local.deleteManifest(key);
  }
}
