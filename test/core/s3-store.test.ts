import { blake3 } from '@napi-rs/blake-hash';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheCorruptError, MissingObjectError, SourceChangedError } from '../../src/core/store/errors.js';
import { LocalObjectStore } from '../../src/core/store/local-store.js';
import { openRemoteStore } from '../../src/core/store/open-remote.js';
import { RemoteUnavailableError } from '../../src/core/store/remote-errors.js';
import { S3ObjectStore } from '../../src/core/store/s3-store.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let server: S3TestServer;
const saved = { ...process.env };
beforeAll(async () => {
  server = await startS3Server();
  Object.assign(process.env, server.env);
});
afterAll(async () => {
  await server.cleanup();
  process.env = saved;
});

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let prefixes = 0;
function setup(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-s3-test-'));
  temps.push(dir);
  const url = `s3://${server.bucket}/team/p${++prefixes}`;
  const store = new S3ObjectStore({ url, endpoint: server.endpoint }, options);
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return { path, digest: blake3(content).toString('hex'), size: Buffer.byteLength(content) };
  };
  const raw = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true });
  /** Writes bytes straight into the bucket, as a broken or malicious client could. */
  const overwrite = (key: string, body: string) => raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: body }));
  return { dir, store, file, url, overwrite };
}

describe('S3ObjectStore objects', () => {
  it('uploads under PREFIX/objects/ab/cdef… and downloads the same bytes, verified, with the asked mode', async () => {
    const { store, file, dir } = setup();
    const src = file('weights.bin', 'weights');
    expect(store.location).toBe(`s3://${server.bucket}/team/p${prefixes}/`);
    expect(await store.has(src.digest)).toBe(false);
    await store.put(src.digest, src.path, { size: src.size });
    expect(store.objectKey(src.digest)).toBe(`team/p${prefixes}/objects/${src.digest.slice(0, 2)}/${src.digest.slice(2)}`);
    expect(await store.has(src.digest)).toBe(true);
    const dest = join(dir, 'out', 'weights.bin');
    await store.get(src.digest, dest, { verify: true, size: src.size, mode: 0o755 });
    expect(readFileSync(dest, 'utf8')).toBe('weights');
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(dir, 'out'))).toEqual(['weights.bin']);
    expect(await store.stat(src.digest)).toMatchObject({ size: src.size });
  });

  it('answers hasMany by listing crowded shards and asking about the rest, for present and absent digests alike', async () => {
    const { store, file } = setup();
    const src = file('x', 'x');
    const crowded = ['aa01', 'aa02', 'aa03', 'aa04'].map((d) => d.padEnd(64, '0'));
    const lone = 'bb01'.padEnd(64, '0');
    for (const digest of [...crowded.slice(0, 3), lone]) await store.put(digest, src.path, { size: 1 });
    const absent = ['aa05'.padEnd(64, '0'), 'cc01'.padEnd(64, '0'), crowded[3]!];
    const found = await store.hasMany([...crowded, lone, ...absent, lone]);
    expect([...found].sort()).toEqual([...crowded.slice(0, 3), lone].sort());
    expect([...(await asArray(store.list()))].sort()).toEqual([...crowded.slice(0, 3), lone].sort());
  });

  it('refuses an object whose bytes changed on the server: CacheCorruptError, nothing written', async () => {
    const { store, file, dir, overwrite } = setup();
    const src = file('a.txt', 'original');
    await store.put(src.digest, src.path, { size: src.size });
    await overwrite(store.objectKey(src.digest), 'originaX');
    const dest = join(dir, 'restored.txt');
    const error = await store.get(src.digest, dest, { verify: true, size: src.size }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheCorruptError);
    expect((error as Error).message).toContain('bytes hashing to');
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
    await overwrite(store.objectKey(src.digest), 'short');
    await expect(store.get(src.digest, dest, { size: src.size })).rejects.toThrow(/expected 8 bytes, got 5 bytes/);
  });

  it('reports a missing object as MissingObjectError naming its s3:// key', async () => {
    const { store, dir } = setup();
    const digest = 'ab'.padEnd(64, '1');
    const error = await store.get(digest, join(dir, 'x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingObjectError);
    expect((error as Error).message).toContain(`s3://${server.bucket}/${store.objectKey(digest)}`);
  });

  it('refuses to upload a file whose size is not the one it was hashed with', async () => {
    const { store, file } = setup();
    const src = file('grown.txt', 'grown after hashing');
    await expect(store.put(src.digest, src.path, { size: 3 })).rejects.toBeInstanceOf(SourceChangedError);
    expect(await store.has(src.digest)).toBe(false);
  });

  it('uploads big objects in parts, byte-identical', async () => {
    const { store, file, dir } = setup({ multipartThresholdBytes: 6 << 20, partSizeBytes: 5 << 20 });
    const bytes = Buffer.alloc(12 << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
    const src = file('big.bin', bytes);
    await store.put(src.digest, src.path, { size: src.size });
    const dest = join(dir, 'big.out');
    await store.get(src.digest, dest, { verify: true, size: src.size });
    expect(readFileSync(dest).equals(bytes)).toBe(true);
  });
});

describe('S3ObjectStore manifests and maintenance', () => {
  it('stores, lists and deletes manifests by key', async () => {
    const { store } = setup();
    const key = 'cd'.padEnd(64, '2');
    expect(await store.getManifest(key)).toBeUndefined();
    await store.putManifest(key, '{"schemaVersion":1}\n');
    expect(await store.getManifest(key)).toBe('{"schemaVersion":1}\n');
    expect(await asArray(store.listManifests())).toEqual([key]);
    expect(await store.manifestMtime(key)).toBeGreaterThan(Date.now() - 600_000);
    expect(await store.removeManifestIfOlderThan(key, Date.now() - 600_000)).toBe(false);
    expect(await store.removeManifestIfOlderThan(key, Date.now() + 60_000)).toBe(true);
    expect(await store.getManifest(key)).toBeUndefined();
  });

  it('removes an object only when it was pushed before the cutoff, and quarantines a corrupt one on verify', async () => {
    const { store, file, overwrite } = setup();
    const src = file('a', 'aaaa');
    await store.put(src.digest, src.path, { size: src.size });
    expect(await store.verify(src.digest)).toBeUndefined();
    expect(await store.removeIfOlderThan(src.digest, Date.now() - 600_000)).toBeUndefined();
    expect(await store.has(src.digest)).toBe(true);
    await overwrite(store.objectKey(src.digest), 'aaab');
    const corrupt = await store.verify(src.digest);
    expect(corrupt).toBeInstanceOf(CacheCorruptError);
    expect(corrupt!.quarantinedTo).toMatch(new RegExp(`^s3://${server.bucket}/team/p\\d+/quarantine/${src.digest}\\.`));
    expect(await store.has(src.digest)).toBe(false);
    await store.put(src.digest, src.path, { size: src.size });
    expect(await store.removeIfOlderThan(src.digest, Date.now() + 60_000)).toBe(src.size);
    expect(await store.has(src.digest)).toBe(false);
    expect(await store.removeStaleTemps()).toBe(0);
  });
});

describe('S3ObjectStore errors a user must act on', () => {
  it('a server that does not answer: RemoteUnavailableError (exit 2) naming the URL and endpoint, with a hint', async () => {
    const down = new S3ObjectStore({ url: 's3://bucket/x', endpoint: 'http://127.0.0.1:9' }, { maxAttempts: 2 });
    const error = await down.has('ab'.padEnd(64, '0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnavailableError);
    expect((error as RemoteUnavailableError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/^cannot use the remote s3:\/\/bucket\/x\/ \(endpoint http:\/\/127\.0\.0\.1:9\): the server does not answer \(.*ECONNREFUSED/);
    expect((error as RemoteUnavailableError).hint).toContain('is running and reachable');
  });

  it('a bucket that does not exist', async () => {
    const store = new S3ObjectStore({ url: 's3://no-such-bucket/x', endpoint: server.endpoint });
    await expect(store.getManifest('ab'.padEnd(64, '0'))).rejects.toThrow(/s3:\/\/no-such-bucket\/x\/ .*: the bucket does not exist/);
  });

  it('no credentials anywhere in the AWS chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpipe-noaws-'));
    temps.push(dir);
    const before = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config'), AWS_EC2_METADATA_DISABLED: 'true' });
    try {
      const store = new S3ObjectStore({ url: `s3://${server.bucket}/x`, endpoint: server.endpoint });
      const error = await store.has('ab'.padEnd(64, '0')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteUnavailableError);
      expect((error as Error).message).toContain('no AWS credentials were found');
      expect((error as RemoteUnavailableError).hint).toContain('AWS_ACCESS_KEY_ID');
    } finally {
      process.env = before;
    }
  });
});

describe('openRemoteStore', () => {
  it('opens s3:// URLs as S3 stores with the remote settings, and folders as folder stores', async () => {
    const s3 = await openRemoteStore({ url: `s3://${server.bucket}/a/b/`, endpoint: server.endpoint });
    expect(s3).toBeInstanceOf(S3ObjectStore);
    expect(s3.location).toBe(`s3://${server.bucket}/a/b/`);
    expect(await openRemoteStore('relative/cache', '/tmp/w')).toEqual(new LocalObjectStore('/tmp/w/relative/cache'));
    await expect(openRemoteStore('gs://bucket/x')).rejects.toThrow(/unsupported remote gs:\/\/bucket\/x/);
  });
});

async function asArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
