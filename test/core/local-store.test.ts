import { blake3 } from '@napi-rs/blake-hash';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheCorruptError, InvalidDigestError, MissingObjectError, SourceChangedError } from '../../src/core/store/errors.js';
import { openLocalStore } from '../../src/core/store/local-store.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-store-'));
  temps.push(dir);
  const store = openLocalStore(join(dir, 'runs'));
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return { path, digest: blake3(content).toString('hex'), size: Buffer.byteLength(content) };
  };
  return { dir, store, file };
}

describe('LocalObjectStore objects', () => {
  it('stores a copy under objects/ab/cdef…, read-only, leaving the source', async () => {
    const { store, file, dir } = setup();
    const src = file('weights.bin', 'weights');
    expect(await store.has(src.digest)).toBe(false);
    await store.put(src.digest, src.path, { size: src.size });
    const object = join(dir, 'runs', 'cache', 'objects', src.digest.slice(0, 2), src.digest.slice(2));
    expect(store.objectPath(src.digest)).toBe(object);
    expect(readFileSync(object, 'utf8')).toBe('weights');
    expect(statSync(object).mode & 0o777).toBe(0o444);
    expect(existsSync(src.path)).toBe(true);
    expect(await store.has(src.digest)).toBe(true);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('takes the file itself with move, but copies a file that has other hard links', async () => {
    const { store, file, dir } = setup();
    const moved = file('tmp-out/a.bin', 'moved');
    const inode = statSync(moved.path).ino;
    await store.put(moved.digest, moved.path, { size: moved.size, move: true });
    expect(existsSync(moved.path)).toBe(false);
    expect(statSync(store.objectPath(moved.digest)).ino).toBe(inode);

    const shared = file('data.csv', 'x,y\n');
    linkSync(shared.path, join(dir, 'data-link.csv'));
    await store.put(shared.digest, shared.path, { size: shared.size, move: true });
    expect(statSync(store.objectPath(shared.digest)).ino).not.toBe(statSync(shared.path).ino);
    expect(statSync(shared.path).mode & 0o200).toBe(0o200);
  });

  it('survives two concurrent puts of the same object', async () => {
    const { store, file } = setup();
    const one = file('one', 'same bytes');
    const two = file('two', 'same bytes');
    await Promise.all([store.put(one.digest, one.path, { size: one.size }), store.put(two.digest, two.path, { size: two.size })]);
    expect(readFileSync(store.objectPath(one.digest), 'utf8')).toBe('same bytes');
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    const digests: string[] = [];
    for await (const digest of store.list()) digests.push(digest);
    expect(digests).toEqual([one.digest]);
  });

  it('refuses a source whose size changed since it was hashed', async () => {
    const { store, file } = setup();
    const src = file('a', 'abc');
    await expect(store.put(src.digest, src.path, { size: 4 })).rejects.toThrow(SourceChangedError);
    expect(await store.has(src.digest)).toBe(false);
  });

  it('materializes by copy (writable, given mode) or by hard link', async () => {
    const { store, file, dir } = setup();
    const src = file('a', 'content');
    await store.put(src.digest, src.path, { size: src.size });
    await store.get(src.digest, join(dir, 'copy'), { size: src.size });
    expect(readFileSync(join(dir, 'copy'), 'utf8')).toBe('content');
    expect(statSync(join(dir, 'copy')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'copy')).ino).not.toBe(statSync(store.objectPath(src.digest)).ino);

    writeFileSync(join(dir, 'linked'), 'old');
    await store.get(src.digest, join(dir, 'linked'), { link: true, mode: 0o644 });
    expect(statSync(join(dir, 'linked')).ino).toBe(statSync(store.objectPath(src.digest)).ino);

    await store.get(src.digest, join(dir, 'tool'), { link: true, mode: 0o755 });
    expect(statSync(join(dir, 'tool')).ino).not.toBe(statSync(store.objectPath(src.digest)).ino);
    expect(statSync(join(dir, 'tool')).mode & 0o777).toBe(0o755);
  });

  it('quarantines a corrupted object found by verify', async () => {
    const { store, file, dir } = setup();
    const src = file('a', 'precious bytes');
    await store.put(src.digest, src.path, { size: src.size });
    const object = store.objectPath(src.digest);
    const bytes = readFileSync(object);
    bytes[3] ^= 0xff;
    rmSync(object);
    writeFileSync(object, bytes);

    await store.get(src.digest, join(dir, 'unchecked'), { size: src.size });
    const error = await store
      .get(src.digest, join(dir, 'out'), { size: src.size, verify: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheCorruptError);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(await store.has(src.digest)).toBe(false);
    const quarantined = readdirSync(join(store.root, 'quarantine'));
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]!.startsWith(`${src.digest}.`)).toBe(true);
    expect((error as CacheCorruptError).quarantinedTo).toBe(join(store.root, 'quarantine', quarantined[0]!));
  });

  it('detects a size mismatch without verify', async () => {
    const { store, file, dir } = setup();
    const src = file('a', 'twelve bytes');
    await store.put(src.digest, src.path, { size: src.size });
    rmSync(store.objectPath(src.digest));
    writeFileSync(store.objectPath(src.digest), 'twelve');
    await expect(store.get(src.digest, join(dir, 'out'), { link: true, size: src.size })).rejects.toThrow(
      /expected 12 bytes, got 6 bytes/,
    );
    expect(await store.has(src.digest)).toBe(false);
  });

  it('replaces a wrong-sized object on the next put of that digest', async () => {
    const { store, file } = setup();
    const src = file('a', 'twelve bytes');
    await store.put(src.digest, src.path, { size: src.size });
    rmSync(store.objectPath(src.digest));
    writeFileSync(store.objectPath(src.digest), 'short');
    await store.put(src.digest, src.path, { size: src.size });
    expect(readFileSync(store.objectPath(src.digest), 'utf8')).toBe('twelve bytes');
  });

  it('reports a missing object and rejects digests that are not hex', async () => {
    const { store, dir } = setup();
    await expect(store.get('abcdef', join(dir, 'x'))).rejects.toThrow(MissingObjectError);
    expect(() => store.objectPath('../../etc/passwd')).toThrow(InvalidDigestError);
    await expect(store.has('ABC')).rejects.toThrow(InvalidDigestError);
  });

  it('lists and deletes objects', async () => {
    const { store, file } = setup();
    const a = file('a', 'a');
    const b = file('b', 'b');
    await store.put(a.digest, a.path, { size: a.size });
    await store.put(b.digest, b.path, { size: b.size });
    const listed: string[] = [];
    for await (const digest of store.list()) listed.push(digest);
    expect(listed.sort()).toEqual([a.digest, b.digest].sort());
    await store.delete(a.digest);
    await store.delete(a.digest);
    expect(await store.has(a.digest)).toBe(false);
    expect(await store.has(b.digest)).toBe(true);
  });
});

describe('LocalObjectStore manifests', () => {
  const key = 'c0ffee'.repeat(10) + 'abcd';

  it('stores manifest text under its key, lists and deletes it; a missing one is undefined', async () => {
    const { store } = setup();
    const other = 'ab' + key.slice(2);
    expect(await store.getManifest(key)).toBeUndefined();
    await store.putManifest(key, '{"a":1}\n');
    await store.putManifest(other, '{"b":2}\n');
    expect(readFileSync(join(store.root, 'manifests', 'c0', `${key}.json`), 'utf8')).toBe('{"a":1}\n');
    const keys: string[] = [];
    for await (const listed of store.listManifests()) keys.push(listed);
    expect(keys).toEqual([other, key]);
    await store.deleteManifest(key);
    expect(await store.getManifest(key)).toBeUndefined();
    expect(await store.getManifest(other)).toBe('{"b":2}\n');
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });
});
