import { blake3 } from '@napi-rs/blake-hash';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonDigest, canonicalJson, CanonicalJsonError, sha256Hex } from '../../src/core/hash/canonical-json.js';
import { FileHashError, hashFile, hashFiles, HASH_BUFFER_BYTES } from '../../src/core/hash/hash-file.js';
import { hashPath, MissingPathError, UnhashablePathError } from '../../src/core/hash/hash-path.js';
import { RACY_WINDOW_MS, StatCache, uncachedHasher } from '../../src/core/hash/stat-cache.js';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-hash-'));
  temps.push(dir);
  return dir;
}
function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}
/** A clock far enough ahead that every file written by the test is older than the racy window. */
const later = () => Date.now() + 10 * RACY_WINDOW_MS;
const BLAKE3_ABC = '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85';

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('canonicalJson', () => {
  it('sorts keys recursively, keeps array order, drops undefined properties, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 1, y: undefined, x: null }], c: 'é' }, u: undefined })).toBe(
      '{"a":{"c":"é","d":[3,1,{"x":null,"z":1}]},"b":1}',
    );
  });

  it('does not depend on insertion order', () => {
    const one = { model: { units: 32, layers: ['dense', 'lstm'] }, lr: 0.001, seed: 42 };
    const two = { seed: 42, lr: 0.001, model: { layers: ['dense', 'lstm'], units: 32 } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(jsonDigest(one)).toBe(jsonDigest(two));
    expect(jsonDigest({ ...one, seed: 43 })).not.toBe(jsonDigest(one));
  });

  it('orders keys by UTF-16 code units and writes undefined array items as null', () => {
    expect(canonicalJson({ b: 1, B: 2, ä: 3, a: 4, '10': 5, '9': 6 })).toBe('{"10":5,"9":6,"B":2,"a":4,"b":1,"ä":3}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });

  it('rejects values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrowErrorMatchingInlineSnapshot(
      `[CanonicalJsonError: Cannot write canonical JSON: $.a[1] is NaN, not a finite number. Cache keys and manifests accept only JSON values.]`,
    );
    expect(() => canonicalJson({ x: Infinity })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ x: 1n })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ x: new Map() })).toThrow(CanonicalJsonError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });

  it('hashes UTF-8 with SHA-256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(jsonDigest({ b: 1, a: 2 })).toBe(sha256Hex('{"a":2,"b":1}'));
  });
});

describe('hashFile', () => {
  it('matches the BLAKE3 test vectors', async () => {
    const dir = tempDir();
    write(dir, { abc: 'abc', empty: '' });
    expect(await hashFile(join(dir, 'abc'))).toBe(BLAKE3_ABC);
    expect(await hashFile(join(dir, 'empty'))).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });

  it('streams a file bigger than its buffer to the one-shot hash', async () => {
    const dir = tempDir();
    const bytes = randomBytes(2 * HASH_BUFFER_BYTES + 12345);
    write(dir, { big: bytes });
    expect(await hashFile(join(dir, 'big'))).toBe(blake3(bytes).toString('hex'));
  });

  it('hashes many files concurrently, in input order', async () => {
    const dir = tempDir();
    const contents = Array.from({ length: 60 }, (_, i) => randomBytes(i * 97));
    contents.forEach((content, i) => write(dir, { [`f${i}`]: content }));
    const hashes = await hashFiles(contents.map((_, i) => join(dir, `f${i}`)));
    expect(hashes).toEqual(contents.map((content) => blake3(content).toString('hex')));
  });

  it('names the file and the system error when reading fails', async () => {
    const dir = tempDir();
    const error = await hashFile(join(dir, 'nope')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileHashError);
    expect(error).toMatchObject({ code: 'ENOENT', path: join(dir, 'nope') });
    await expect(hashFile(dir)).rejects.toMatchObject({ code: 'ENOTREG' });
  });
});

describe('StatCache', () => {
  it('answers unchanged files from the cache, re-hashes touched ones to the same hash, sees a one-byte change', async () => {
    const dir = tempDir();
    write(dir, { data: 'hello world' });
    const file = join(dir, 'data');
    const cache = await StatCache.open(join(dir, 'runs'), { clock: later });
    const first = await cache.hash(file);
    expect(first).toEqual({ hash: blake3('hello world').toString('hex'), size: 11, mode: statSync(file).mode & 0o777 });
    expect(await cache.hash(file)).toEqual(first);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });

    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(await cache.hash(file)).toEqual(first);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 2 });

    writeFileSync(file, 'hello World');
    utimesSync(file, new Date(), new Date(Date.now() + 9_000));
    const changed = await cache.hash(file);
    expect(changed.hash).toBe(blake3('hello World').toString('hex'));
    expect(cache.stats).toMatchObject({ hits: 1, misses: 3 });
  });

  it('re-hashes racily clean entries: a same-size rewrite with the same mtime right after hashing is seen', async () => {
    const dir = tempDir();
    const file = join(dir, 'data');
    const stamp = new Date();
    write(dir, { data: 'version-1' });
    utimesSync(file, stamp, stamp);
    const cache = await StatCache.open(join(dir, 'runs'), { fresh: true });
    expect((await cache.hash(file)).hash).toBe(blake3('version-1').toString('hex'));
    writeFileSync(file, 'version-2');
    utimesSync(file, stamp, stamp);
    expect((await cache.hash(file)).hash).toBe(blake3('version-2').toString('hex'));
    expect(cache.stats).toMatchObject({ hits: 0, misses: 2 });
  });

  it('saves entries that a second instance reads without reading the files again', async () => {
    const dir = tempDir();
    const runs = join(dir, 'runs');
    write(dir, { a: 'aaa', 'sub/b': 'bbbb' });
    const one = await StatCache.open(runs, { clock: later });
    const hashed = await one.hashAll([join(dir, 'a'), join(dir, 'sub/b')]);
    await one.save();

    const two = await StatCache.open(runs, { clock: later });
    expect(await two.hashAll([join(dir, 'a'), join(dir, 'sub/b')])).toEqual(hashed);
    expect(two.stats).toEqual({ hits: 2, misses: 0, bytesHashed: 0 });
  });

  it('merges with entries another process saved meanwhile, and writes nothing when unchanged', async () => {
    const dir = tempDir();
    const runs = join(dir, 'runs');
    write(dir, { a: 'aaa', b: 'bbb' });
    const one = await StatCache.open(runs, { clock: later });
    const two = await StatCache.open(runs, { clock: later });
    await one.save();
    expect(() => statSync(one.file)).toThrow();
    await one.hash(join(dir, 'a'));
    await two.hash(join(dir, 'b'));
    await one.save();
    await two.save();
    const saved = readFileSync(one.file, 'utf8');
    await two.save();
    expect(readFileSync(one.file, 'utf8')).toBe(saved);
    const three = await StatCache.open(runs, { clock: later });
    await three.hashAll([join(dir, 'a'), join(dir, 'b')]);
    expect(three.stats.hits).toBe(2);
  });

  it('is one shared instance per runs folder unless options are given', async () => {
    const dir = tempDir();
    expect(await StatCache.open(join(dir, 'runs'))).toBe(await StatCache.open(join(dir, 'runs', '.')));
    expect(await StatCache.open(join(dir, 'runs'), { fresh: true })).not.toBe(await StatCache.open(join(dir, 'runs')));
  });

  it('treats an unreadable cache file as empty', async () => {
    const dir = tempDir();
    write(dir, { 'runs/cache/stat-cache.json': '{"schemaVersion":1,"entries":{"/x":[', a: 'a' });
    const cache = await StatCache.open(join(dir, 'runs'), { clock: later });
    expect((await cache.hash(join(dir, 'a'))).hash).toBe(blake3('a').toString('hex'));
  });
});

describe('hashPath', () => {
  it('describes a file by its hash', async () => {
    const dir = tempDir();
    write(dir, { 'model.json': '{}' });
    const manifest = await hashPath(join(dir, 'model.json'), uncachedHasher);
    expect(manifest).toEqual({
      type: 'file',
      digest: blake3('{}').toString('hex'),
      files: [{ path: '', hash: blake3('{}').toString('hex'), size: 2, mode: 0o644 & ~process.umask() }],
    });
  });

  it('lists a folder sorted by POSIX path, with a digest independent of creation order', async () => {
    const dir = tempDir();
    const files = { 'b.bin': 'B', 'a/z.txt': 'Z', 'a/b/c.txt': 'C', 'a.txt': 'A' };
    write(join(dir, 'one'), files);
    write(join(dir, 'two'), Object.fromEntries(Object.entries(files).reverse()));
    const one = await hashPath(join(dir, 'one'), uncachedHasher);
    const two = await hashPath(join(dir, 'two'), uncachedHasher);
    expect(one.files.map((file) => file.path)).toEqual(['a.txt', 'a/b/c.txt', 'a/z.txt', 'b.bin']);
    expect(two).toEqual(one);
    expect(one.type).toBe('dir');

    chmodSync(join(dir, 'two', 'b.bin'), 0o755);
    expect((await hashPath(join(dir, 'two'), uncachedHasher)).digest).not.toBe(one.digest);
    chmodSync(join(dir, 'two', 'b.bin'), 0o644);
    write(join(dir, 'two'), { 'a/z.txt': 'z' });
    expect((await hashPath(join(dir, 'two'), uncachedHasher)).digest).not.toBe(one.digest);
  });

  it('allows an empty folder', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));
    expect(await hashPath(join(dir, 'empty'), uncachedHasher)).toEqual({ type: 'dir', digest: jsonDigest([]), files: [] });
  });

  it('follows symlinks that stay inside the folder and refuses those that leave it', async () => {
    const dir = tempDir();
    write(join(dir, 'out'), { 'real/x.txt': 'x' });
    write(dir, { 'secret.txt': 's' });
    symlinkSync('real/x.txt', join(dir, 'out', 'link.txt'));
    symlinkSync('real', join(dir, 'out', 'linked-dir'));
    const manifest = await hashPath(join(dir, 'out'), uncachedHasher);
    expect(manifest.files.map((file) => file.path)).toEqual(['link.txt', 'linked-dir/x.txt', 'real/x.txt']);

    symlinkSync('../secret.txt', join(dir, 'out', 'escape.txt'));
    await expect(hashPath(join(dir, 'out'), uncachedHasher)).rejects.toThrow(UnhashablePathError);
  });

  it('refuses symlink loops', async () => {
    const dir = tempDir();
    write(join(dir, 'out'), { 'a/x.txt': 'x' });
    symlinkSync('..', join(dir, 'out', 'a', 'up'));
    await expect(hashPath(join(dir, 'out'), uncachedHasher)).rejects.toThrow(/symlink loop/);
  });

  it('names a missing path', async () => {
    await expect(hashPath('/nonexistent/mlpipe/data.csv', uncachedHasher)).rejects.toThrowErrorMatchingInlineSnapshot(
      `[MissingPathError: /nonexistent/mlpipe/data.csv does not exist. Check the path in the pipeline, or run the stage that produces it.]`,
    );
    const dir = tempDir();
    write(join(dir, 'out'), { 'x.txt': 'x' });
    symlinkSync('gone.txt', join(dir, 'out', 'dangling'));
    await expect(hashPath(join(dir, 'out'), uncachedHasher)).rejects.toThrow(MissingPathError);
  });

  it('goes through the stat cache it is given', async () => {
    const dir = tempDir();
    write(join(dir, 'out'), { 'a.txt': 'a', 'b.txt': 'b' });
    const cache = await StatCache.open(join(dir, 'runs'), { clock: later });
    const first = await hashPath(join(dir, 'out'), cache);
    expect(await hashPath(join(dir, 'out'), cache)).toEqual(first);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 2 });
  });
});
