import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RACY_WINDOW_MS, StatCache } from '../../../src/core/hash/stat-cache.js';
import { CacheCorruptError } from '../../../src/core/store/errors.js';
import { openLocalStore } from '../../../src/core/store/local-store.js';
import { commitOutputs, outputsAvailable, restoreOutputs } from '../../../src/core/cache/stage-outputs.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-outputs-'));
  temps.push(dir);
  const runs = join(dir, 'runs');
  const store = openLocalStore(runs);
  const statCache = await StatCache.open(runs, { clock: () => Date.now() + 10 * RACY_WINDOW_MS });
  return { dir, store, statCache };
}

function write(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

/** Every file below `root`: relative path → [content, executable]. */
function tree(root: string): Record<string, [string, boolean]> {
  const out: Record<string, [string, boolean]> = {};
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else out[relative(root, path)] = [readFileSync(path, 'utf8'), (statSync(path).mode & 0o111) !== 0];
    }
  };
  visit(root);
  return out;
}

const dataset = { 'meta.json': '{"features":4}', 'train/x.bin': 'xxxx', 'train/y.bin': 'yy', 'test/x.bin': 'xxxx', 'run.sh': 'echo hi' };

describe('commitOutputs / restoreOutputs', () => {
  it('restores a committed tree byte for byte, by copy and by link', async () => {
    const { dir, store, statCache } = await setup();
    write(join(dir, 'work', 'dataset'), dataset);
    chmodSync(join(dir, 'work', 'dataset', 'run.sh'), 0o755);
    write(join(dir, 'work'), { 'report.md': '# report' });
    const manifests = await commitOutputs(store, statCache, {
      dataset: { path: join(dir, 'work', 'dataset'), move: false },
      report: { path: join(dir, 'work', 'report.md'), move: false },
    });
    expect(manifests.dataset!.type).toBe('dir');
    expect(manifests.dataset!.files.map((file) => file.path)).toEqual([
      'meta.json',
      'run.sh',
      'test/x.bin',
      'train/x.bin',
      'train/y.bin',
    ]);
    expect(manifests.report!.type).toBe('file');
    expect(existsSync(join(dir, 'work', 'report.md'))).toBe(true);
    expect(await outputsAvailable(store, manifests)).toBe(true);

    for (const link of [false, true]) {
      const target = join(dir, link ? 'linked' : 'copied');
      await restoreOutputs(store, manifests, {
        dataset: { path: join(target, 'dataset'), link },
        report: { path: join(target, 'report.md'), link },
      });
      expect(tree(join(target, 'dataset'))).toEqual(tree(join(dir, 'work', 'dataset')));
      expect(readFileSync(join(target, 'report.md'), 'utf8')).toBe('# report');
      expect(readdirSync(target).sort()).toEqual(['dataset', 'report.md']);
    }
    expect(statSync(join(dir, 'copied', 'report.md')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'linked', 'report.md')).ino).toBe(statSync(store.objectPath(manifests.report!.digest)).ino);
    expect(statSync(join(dir, 'linked', 'dataset', 'run.sh')).mode & 0o777).toBe(0o755);
  });

  it('lets the store take the files of a run temp folder', async () => {
    const { dir, store, statCache } = await setup();
    const temp = join(dir, 'runs', 'r-1', '.tmp-prepare');
    write(join(temp, 'dataset'), dataset);
    const manifests = await commitOutputs(store, statCache, { dataset: { path: join(temp, 'dataset'), move: true } });
    expect(existsSync(join(temp, 'dataset', 'meta.json'))).toBe(false);
    expect(statCache.stats.misses).toBe(0);
    await restoreOutputs(store, manifests, { dataset: { path: join(dir, 'restored'), link: false } });
    expect(tree(join(dir, 'restored'))).toEqual(Object.fromEntries(Object.entries(dataset).map(([k, v]) => [k, [v, false]])));
  });

  it('replaces whatever is at the destination and leaves no temp siblings', async () => {
    const { dir, store, statCache } = await setup();
    write(join(dir, 'out'), { 'a.txt': 'new a', 'sub/b.txt': 'new b' });
    const manifests = await commitOutputs(store, statCache, {
      folder: { path: join(dir, 'out'), move: false },
      file: { path: join(dir, 'out', 'a.txt'), move: false },
    });
    write(join(dir, 'dest', 'folder'), { 'a.txt': 'old a', 'stale.txt': 'stale', 'sub/deeper/c.txt': 'c' });
    write(join(dir, 'dest', 'file'), { 'was-a-folder.txt': 'x' });
    await restoreOutputs(store, manifests, {
      folder: { path: join(dir, 'dest', 'folder'), link: false },
      file: { path: join(dir, 'dest', 'file'), link: true },
    });
    expect(tree(join(dir, 'dest', 'folder'))).toEqual({ 'a.txt': ['new a', false], 'sub/b.txt': ['new b', false] });
    expect(readFileSync(join(dir, 'dest', 'file'), 'utf8')).toBe('new a');
    expect(readdirSync(join(dir, 'dest')).sort()).toEqual(['file', 'folder']);
  });

  it('keeps the old destination when verification finds a corrupt object', async () => {
    const { dir, store, statCache } = await setup();
    write(join(dir, 'out'), { 'a.txt': 'good', 'b.txt': 'fine' });
    const manifests = await commitOutputs(store, statCache, { out: { path: join(dir, 'out'), move: false } });
    const object = store.objectPath(manifests.out!.files[0]!.hash);
    rmSync(object);
    writeFileSync(object, 'evil');
    write(join(dir, 'dest'), { 'previous.txt': 'previous' });
    await expect(
      restoreOutputs(store, manifests, { out: { path: join(dir, 'dest'), link: false } }, { verify: true }),
    ).rejects.toThrow(CacheCorruptError);
    expect(tree(join(dir, 'dest'))).toEqual({ 'previous.txt': ['previous', false] });
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(await outputsAvailable(store, manifests)).toBe(false);
  });

  it('reports a cache entry whose objects are gone', async () => {
    const { dir, store, statCache } = await setup();
    write(dir, { 'model.json': '{}' });
    const manifests = await commitOutputs(store, statCache, { model: { path: join(dir, 'model.json'), move: false } });
    expect(await outputsAvailable(store, manifests)).toBe(true);
    await store.delete(manifests.model!.digest);
    expect(await outputsAvailable(store, manifests)).toBe(false);
  });

  it('refuses to restore an output it has no destination for', async () => {
    const { dir, store, statCache } = await setup();
    write(dir, { 'model.json': '{}' });
    const manifests = await commitOutputs(store, statCache, { model: { path: join(dir, 'model.json'), move: false } });
    await expect(restoreOutputs(store, manifests, {})).rejects.toThrow(/no destination given for output model/);
  });
});
