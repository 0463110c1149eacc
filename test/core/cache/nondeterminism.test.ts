import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalStore } from '../../../src/core/store/local-store.js';
import { uncachedHasher } from '../../../src/core/hash/stat-cache.js';
import { StageCache, type SaveRequest } from '../../../src/core/cache/stage-cache.js';
import { differingFiles, MAX_RECORDED_FILES } from '../../../src/core/cache/nondeterminism.js';
import type { OutputManifest } from '../../../src/core/hash/path-manifest.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const file = (hash: string): OutputManifest => ({ type: 'file', digest: hash, files: [{ path: '', hash, size: 1, mode: 0o644 }] });
const dir = (files: Record<string, string>, digest = Object.values(files).join('')): OutputManifest => ({
  type: 'dir',
  digest,
  files: Object.entries(files).map(([path, hash]) => ({ path, hash, size: 1, mode: 0o644 })),
});

describe('differingFiles', () => {
  it('names a file output, and the changed, added and removed files inside a folder output', () => {
    expect(differingFiles({ model: file('a'), 'out/m.json': file('m') }, { model: file('b'), 'out/m.json': file('m') })).toEqual(['model']);
    expect(differingFiles({ feats: dir({ 'a.csv': '1', 'b.csv': '2', 'c.csv': '3' }) }, { feats: dir({ 'a.csv': '1', 'b.csv': '9', 'd.csv': '4' }) })).toEqual([
      'feats/b.csv',
      'feats/c.csv',
      'feats/d.csv',
    ]);
    expect(differingFiles({ x: file('a') }, { x: dir({ 'a.txt': 'a' }) })).toEqual(['x', 'x/a.txt']);
    expect(differingFiles({ x: dir({ 'a.txt': 'a' }, 'd1') }, { x: dir({ 'a.txt': 'a' }, 'd2') })).toEqual(['x']);
    expect(differingFiles({ same: dir({ 'a.txt': 'a' }) }, { same: dir({ 'a.txt': 'a' }) })).toEqual([]);
  });

  it('records at most MAX_RECORDED_FILES files', () => {
    const many = (v: string) => dir(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${String(i).padStart(3, '0')}`, `${v}${i}`])));
    const files = differingFiles({ big: many('a') }, { big: many('b') });
    expect(files).toHaveLength(MAX_RECORDED_FILES);
    expect(files[0]).toBe('big/f000');
  });
});

describe('StageCache.save under a key that already has an entry', () => {
  function setup() {
    const root = mkdtempSync(join(tmpdir(), 'mlpipe-nondet-'));
    temps.push(root);
    const warnings: string[] = [];
    const cache = new StageCache(openLocalStore(join(root, 'runs')), { onWarning: (m) => warnings.push(m) });
    mkdirSync(join(root, 'ws'));
    const save = (runId: string, content: Record<string, string>) => {
      for (const [name, text] of Object.entries(content)) writeFileSync(join(root, 'ws', name), text);
      const outputs = Object.fromEntries(Object.keys(content).map((name) => [name, { path: join(root, 'ws', name), move: false }]));
      const req: SaveRequest = { key: 'abc123', stage: 'fit', kind: 'shell', runId, metrics: {}, outputs, hasher: uncachedHasher, publish: true };
      return cache.save(req);
    };
    return { cache, warnings, save };
  }

  it('warns once, names the differing files, returns them, and keeps the newest execution as the entry', async () => {
    const { cache, warnings, save } = setup();
    expect((await save('r-1', { 'a.txt': 'one', 'b.txt': 'same' })).nondeterministic).toBeUndefined();
    const second = await save('r-2', { 'a.txt': 'two', 'b.txt': 'same' });
    expect(second.nondeterministic).toEqual({ previousRunId: 'r-1', files: ['a.txt'] });
    expect(warnings).toEqual([
      "stage fit is nondeterministic: it ran again with an identical cache key and wrote different content to a.txt (the entry of run r-1 had other content); the cache entry now holds this run's outputs",
    ]);
    expect((await cache.manifest('abc123'))?.runId).toBe('r-2');
    expect((await cache.manifest('abc123'))?.outputs['a.txt']).toEqual(second.manifest.outputs['a.txt']);
  });

  it('says nothing when the re-run wrote the same files', async () => {
    const { warnings, save } = setup();
    await save('r-1', { 'a.txt': 'one' });
    expect((await save('r-2', { 'a.txt': 'one' })).nondeterministic).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
