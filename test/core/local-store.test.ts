import { blake3 } from '@napi-rs/blake-hash';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheCorruptError, InvalidDigestError, MissingObjectError, SourceChangedError } from '../../src/core/store/errors.js';
import { LocalObjectStore } from '../../src/core/store/local-store.js';
import type { StageManifest } from '../../src/core/store/types.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(onWarning?: (message: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-store-'));
  temps.push(dir);
  const store = new LocalObjectStore(join(dir, 'runs'), { onWarning });
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return { path, digest: blake3(content).toString('hex'), size: Buffer.byteLength(content) };
  };
  return { dir, store, file };
}

function manifest(key: string, extra: Partial<StageManifest> = {}): StageManifest {
  return {
    schemaVersion: 1,
    key,
    stage: 'pipeline.yaml:train',
    kind: 'train',
    runId: 'r-1',
    createdAt: 1700000000000,
    outputs: { model: { type: 'file', digest: 'ab12', files: [{ path: '', hash: 'ab12', size: 3, mode: 0o644 }] } },
    metrics: { loss: 0.25 },
    ...extra,
  };
}

describe('LocalObjectStore objects', () => {
  it('stores a copy under objects/ab/cdef…, read-only, leaving the source', async () => {
    const { store, file, dir } = setup();
    const src = file('weights.bin', 'weights');
    expect(await store.has(src.digest)).toBe(false);
    await store.putFile(src.path, src.digest, src.size);
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
    await store.putFile(moved.path, moved.digest, moved.size, { move: true });
    expect(existsSync(moved.path)).toBe(false);
    expect(statSync(store.objectPath(moved.digest)).ino).toBe(inode);

    const shared = file('data.csv', 'x,y\n');
    linkSync(shared.path, join(dir, 'data-link.csv'));
    await store.putFile(shared.path, shared.digest, shared.size, { move: true });
    expect(statSync(store.objectPath(shared.digest)).ino).not.toBe(statSync(shared.path).ino);
    expect(statSync(shared.path).mode & 0o200).toBe(0o200);
  });

  it('survives two concurrent puts of the same object', async () => {
    const { store, file } = setup();
    const one = file('one', 'same bytes');
    const two = file('two', 'same bytes');
    await Promise.all([store.putFile(one.path, one.digest, one.size), store.putFile(two.path, two.digest, two.size)]);
    expect(readFileSync(store.objectPath(one.digest), 'utf8')).toBe('same bytes');
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    const digests: string[] = [];
    for await (const digest of store.listDigests()) digests.push(digest);
    expect(digests).toEqual([one.digest]);
  });

  it('refuses a source whose size changed since it was hashed', async () => {
    const { store, file } = setup();
    const src = file('a', 'abc');
    await expect(store.putFile(src.path, src.digest, 4)).rejects.toThrow(SourceChangedError);
    expect(await store.has(src.digest)).toBe(false);
  });

  it('materializes by copy (writable, given mode) or by hard link', async () => {
    const { store, file, dir } = setup();
    const src = file('a', 'content');
    await store.putFile(src.path, src.digest, src.size);
    await store.materialize(src.digest, join(dir, 'copy'), { link: false, size: src.size });
    expect(readFileSync(join(dir, 'copy'), 'utf8')).toBe('content');
    expect(statSync(join(dir, 'copy')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'copy')).ino).not.toBe(statSync(store.objectPath(src.digest)).ino);

    writeFileSync(join(dir, 'linked'), 'old');
    await store.materialize(src.digest, join(dir, 'linked'), { link: true, mode: 0o644 });
    expect(statSync(join(dir, 'linked')).ino).toBe(statSync(store.objectPath(src.digest)).ino);

    await store.materialize(src.digest, join(dir, 'tool'), { link: true, mode: 0o755 });
    expect(statSync(join(dir, 'tool')).ino).not.toBe(statSync(store.objectPath(src.digest)).ino);
    expect(statSync(join(dir, 'tool')).mode & 0o777).toBe(0o755);
  });

  it('quarantines a corrupted object found by verify', async () => {
    const { store, file, dir } = setup();
    const src = file('a', 'precious bytes');
    await store.putFile(src.path, src.digest, src.size);
    const object = store.objectPath(src.digest);
    const bytes = readFileSync(object);
    bytes[3] ^= 0xff;
    rmSync(object);
    writeFileSync(object, bytes);

    await store.materialize(src.digest, join(dir, 'unchecked'), { link: false, size: src.size });
    const error = await store
      .materialize(src.digest, join(dir, 'out'), { link: false, size: src.size, verify: true })
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
    await store.putFile(src.path, src.digest, src.size);
    rmSync(store.objectPath(src.digest));
    writeFileSync(store.objectPath(src.digest), 'twelve');
    await expect(store.materialize(src.digest, join(dir, 'out'), { link: true, size: src.size })).rejects.toThrow(
      /expected 12 bytes, got 6 bytes/,
    );
    expect(await store.has(src.digest)).toBe(false);
  });

  it('replaces a wrong-sized object on the next put of that digest', async () => {
    const { store, file } = setup();
    const src = file('a', 'twelve bytes');
    await store.putFile(src.path, src.digest, src.size);
    rmSync(store.objectPath(src.digest));
    writeFileSync(store.objectPath(src.digest), 'short');
    await store.putFile(src.path, src.digest, src.size);
    expect(readFileSync(store.objectPath(src.digest), 'utf8')).toBe('twelve bytes');
  });

  it('reports a missing object and rejects digests that are not hex', async () => {
    const { store, dir } = setup();
    await expect(store.materialize('abcdef', join(dir, 'x'), { link: false })).rejects.toThrow(MissingObjectError);
    expect(() => store.objectPath('../../etc/passwd')).toThrow(InvalidDigestError);
    await expect(store.has('ABC')).rejects.toThrow(InvalidDigestError);
  });

  it('lists and deletes objects', async () => {
    const { store, file } = setup();
    const a = file('a', 'a');
    const b = file('b', 'b');
    await store.putFile(a.path, a.digest, a.size);
    await store.putFile(b.path, b.digest, b.size);
    const listed: string[] = [];
    for await (const digest of store.listDigests()) listed.push(digest);
    expect(listed.sort()).toEqual([a.digest, b.digest].sort());
    await store.deleteObject(a.digest);
    await store.deleteObject(a.digest);
    expect(await store.has(a.digest)).toBe(false);
    expect(await store.has(b.digest)).toBe(true);
  });
});

describe('LocalObjectStore manifests', () => {
  const key = 'c0ffee'.repeat(10) + 'abcd';

  it('round-trips a manifest written as canonical JSON with a trailing newline', async () => {
    const { store } = setup();
    const written = manifest(key);
    await store.putManifest(written);
    expect(await store.getManifest(key)).toEqual(written);
    const path = join(store.root, 'manifests', 'c0', `${key}.json`);
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('"createdAt"')).toBeLessThan(text.indexOf('"key"'));

    const reordered = Object.fromEntries(Object.entries(written).reverse()) as unknown as StageManifest;
    await store.putManifest(reordered);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('treats a missing manifest as a silent miss and a partial one as a miss with a warning', async () => {
    const warnings: string[] = [];
    const { store } = setup((message) => warnings.push(message));
    expect(await store.getManifest(key)).toBeUndefined();
    expect(warnings).toEqual([]);

    await store.putManifest(manifest(key));
    const path = store.manifestPath(key);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length / 2));
    expect(await store.getManifest(key)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Cache manifest ${path} is not valid JSON, probably partial`);
    expect(warnings[0]).toContain('treating it as a cache miss');
  });

  it('rejects a manifest of another key, another schema version or with unsafe paths', async () => {
    const warnings: string[] = [];
    const { store } = setup((message) => warnings.push(message));
    const path = store.manifestPath(key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(manifest('c0ffee')));
    expect(await store.getManifest(key)).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...manifest(key), schemaVersion: 2 }));
    expect(await store.getManifest(key)).toBeUndefined();
    const escaping = { type: 'dir', digest: 'ab', files: [{ path: 'a/../../x', hash: 'ab12', size: 1, mode: 420 }] };
    writeFileSync(path, JSON.stringify({ ...manifest(key), outputs: { out: escaping } }));
    expect(await store.getManifest(key)).toBeUndefined();
    expect(warnings.map((warning) => warning.slice(path.length + 'Cache manifest  '.length))).toEqual([
      'is for key "c0ffee", not ' + key + '; treating it as a cache miss.',
      'has schemaVersion 2, expected 1; treating it as a cache miss.',
      'has a malformed output out; treating it as a cache miss.',
    ]);
  });

  it('lists and deletes manifests', async () => {
    const { store } = setup();
    const other = 'ab' + key.slice(2);
    await store.putManifest(manifest(key));
    await store.putManifest(manifest(other));
    const keys: string[] = [];
    for await (const listed of store.listManifestKeys()) keys.push(listed);
    expect(keys).toEqual([other, key]);
    await store.deleteManifest(key);
    expect(await store.getManifest(key)).toBeUndefined();
    expect(await store.getManifest(other)).toBeDefined();
  });
});
