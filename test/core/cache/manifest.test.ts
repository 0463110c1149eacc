import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalStore } from '../../../src/core/store/local-store.js';
import { encodeManifest, type StageManifest } from '../../../src/core/cache/manifest.js';
import { uncachedHasher } from '../../../src/core/hash/stat-cache.js';
import { readManifest, StageCache } from '../../../src/core/cache/stage-cache.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-manifest-'));
  temps.push(dir);
  const store = openLocalStore(join(dir, 'runs'));
  const warnings: string[] = [];
  return { dir, store, warnings, read: (key: string) => readManifest(store, key, (m) => warnings.push(m)) };
}

function manifest(key: string, extra: Partial<StageManifest> = {}): StageManifest {
  return {
    schemaVersion: 1,
    key,
    stage: 'train',
    kind: 'train',
    runId: 'r-1',
    createdAt: 1700000000000,
    outputs: { model: { type: 'file', digest: 'ab12', files: [{ path: '', hash: 'ab12', size: 3, mode: 0o644 }] } },
    metrics: { loss: 0.25 },
    ...extra,
  };
}

const key = 'c0ffee'.repeat(10) + 'abcd';

describe('cache manifests', () => {
  it('round-trip as canonical JSON with a trailing newline: the same entry always has the same bytes', async () => {
    const { store, read } = setup();
    const written = manifest(key);
    await store.putManifest(key, encodeManifest(written));
    expect(await read(key)).toEqual(written);
    const text = readFileSync(store.manifestPath(key), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('"createdAt"')).toBeLessThan(text.indexOf('"key"'));
    const reordered = Object.fromEntries(Object.entries(written).reverse()) as unknown as StageManifest;
    expect(encodeManifest(reordered)).toBe(text);
  });

  it('a missing manifest is a silent miss, a partial one a miss with a warning', async () => {
    const { store, read, warnings } = setup();
    expect(await read(key)).toBeUndefined();
    expect(warnings).toEqual([]);
    await store.putManifest(key, encodeManifest(manifest(key)));
    const path = store.manifestPath(key);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length / 2));
    expect(await read(key)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Cache manifest ${key} in ${store.root} is not valid JSON, probably partial`);
    expect(warnings[0]).toContain('treating it as a cache miss');
  });

  it('rejects a manifest of another key, another schema version or with unsafe paths', async () => {
    const { store, read, warnings } = setup();
    const path = store.manifestPath(key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(manifest('c0ffee')));
    expect(await read(key)).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...manifest(key), schemaVersion: 2 }));
    expect(await read(key)).toBeUndefined();
    const escaping = { type: 'dir', digest: 'ab', files: [{ path: 'a/../../x', hash: 'ab12', size: 1, mode: 420 }] };
    writeFileSync(path, JSON.stringify({ ...manifest(key), outputs: { out: escaping } }));
    expect(await read(key)).toBeUndefined();
    const prefix = `Cache manifest ${key} in ${store.root} `;
    expect(warnings.map((w) => w.slice(prefix.length))).toEqual([
      'is for key "c0ffee", not ' + key + '; treating it as a cache miss.',
      'has schemaVersion 2, expected 1; treating it as a cache miss.',
      'has a malformed output out; treating it as a cache miss.',
    ]);
  });

  it('an entry is usable only while every object it names is in the store', async () => {
    const { store, dir } = setup();
    const cache = new StageCache(store);
    writeFileSync(join(dir, 'model.bin'), 'abc');
    const model = { path: join(dir, 'model.bin'), move: false };
    const { manifest: saved } = await cache.save({ key, stage: 'train', kind: 'train', runId: 'r-1', metrics: { loss: 1 }, outputs: { model }, hasher: uncachedHasher, publish: true });
    expect(await cache.entry(key)).toEqual(saved);
    await store.delete(saved.outputs.model!.digest);
    expect(await cache.entry(key)).toBeUndefined();
    expect(await cache.manifest(key)).toEqual(saved);
  });
});
