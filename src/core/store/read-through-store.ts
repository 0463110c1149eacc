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
  /** Manifests read from the remote, by key, until {@link adopt} keeps them locally. */
  private readonly fromRemote = new Map<string, string>();

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
    const remote = await this.remote.getManifest(key);
    if (remote !== undefined) this.fromRemote.set(key, remote);
    return remote;
  }

  /** Keeps an entry read from the remote in the local store: its missing objects (verified), then its manifest. */
  async adopt(key: string, digests: readonly string[]): Promise<void> {
    const text = this.fromRemote.get(key);
    if (text === undefined) return;
    const present = await this.local.hasMany(digests);
    for (const digest of digests) if (!present.has(digest)) await this.fetch(digest);
    if ((await this.local.getManifest(key)) === undefined) await this.local.putManifest(key, text);
    this.fromRemote.delete(key);
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
