import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheKey } from '../../../src/core/cache/key.js';
import { lockedMaterial, openLockIndex, readLockFile, type LockedStage } from '../../../src/core/lock/lock-file.js';
import { LockMemo, pruneLockMemos } from '../../../src/core/lock/lock-memo.js';
import { updateLockFile } from '../../../src/core/lock/update-lock.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

function locked(params: Record<string, unknown>): LockedStage {
  const entry: Omit<LockedStage, 'key'> = {
    kind: 'shell',
    version: 2,
    params,
    deps: { 'in.csv': { digest: 'a'.repeat(64), size: 3 } },
    upstream: {},
    outs: { 'out.txt': { location: 'workspace', path: 'out.txt', digest: 'b'.repeat(64), size: 4 } },
    metrics: {},
    config: { run: 'wc -c in.csv > out.txt', deps: ['in.csv'], outs: ['out.txt'], env: {} },
  };
  return { ...entry, key: cacheKey(lockedMaterial({ ...entry, key: '' })) };
}

const specAt = (dir: string, file = 'pipeline.yaml') => ({ file: join(dir, file), name: 'p', stages: { s: {} } as never });

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('lock memo', () => {
  it('serves the text it wrote without parsing it again: what it remembers is what is read', async () => {
    ws = await makeWorkspace();
    const runsDir = ws.path('runs');
    await updateLockFile(specAt(ws.dir), { s: locked({ lr: 1 }) }, { runsDir });
    const [memoFile] = await readdir(join(runsDir, 'cache', 'lock-memo'));
    const memoPath = join(runsDir, 'cache', 'lock-memo', memoFile!);
    const memo = JSON.parse(await readFile(memoPath, 'utf8'));
    expect(memo.lock.stages.s.params).toEqual({ lr: 1 });
    // A memo altered behind its back shows through: the YAML was not decoded again.
    memo.lock.pipeline = 'from-the-memo';
    await writeFile(memoPath, JSON.stringify(memo));
    const read = await readLockFile(ws.path('pipeline.lock'), 'pipeline.lock', LockMemo.of(runsDir, ws.path('pipeline.lock')));
    expect(read?.lock?.pipeline).toBe('from-the-memo');
    expect(read?.encodedFor).toBe('pipeline.yaml');
  });

  it('decodes and checks in full a text that changed since (an edit is never trusted from the memo)', async () => {
    ws = await makeWorkspace();
    const runsDir = ws.path('runs');
    await updateLockFile(specAt(ws.dir), { s: locked({ lr: 1 }) }, { runsDir });
    const path = ws.path('pipeline.lock');
    await writeFile(path, (await readFile(path, 'utf8')).replace('lr: 1', 'lr: 2'));
    const warnings: string[] = [];
    const index = await openLockIndex(specAt(ws.dir).file, (w) => warnings.push(w), runsDir);
    expect(index?.stage('s')).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/stages\.s\.key does not match/);
  });

  it('leaves an unchanged lock alone, and rewrites it when the entries or the spec name change', async () => {
    ws = await makeWorkspace();
    const runsDir = ws.path('runs');
    const path = ws.path('pipeline.lock');
    expect((await updateLockFile(specAt(ws.dir), { s: locked({ lr: 1 }) }, { runsDir })).changed).toBe(true);
    expect((await updateLockFile(specAt(ws.dir), { s: locked({ lr: 1 }) }, { runsDir })).changed).toBe(false);
    expect((await updateLockFile(specAt(ws.dir), { s: locked({ lr: 3 }) }, { runsDir })).changed).toBe(true);
    expect(await readFile(path, 'utf8')).toMatch(/lr: 3/);
    // pipeline.yml writes the same pipeline.lock, with its own name in the header
    expect((await updateLockFile(specAt(ws.dir, 'pipeline.yml'), { s: locked({ lr: 3 }) }, { runsDir })).changed).toBe(true);
    expect(await readFile(path, 'utf8')).toMatch(/^# mlpipe lock file of pipeline\.yml:/);
  });

  it('is only a speed-up: a memo that is not JSON, or a runs folder that cannot hold one, changes nothing', async () => {
    ws = await makeWorkspace({ runs: 'a file where the runs folder would be' });
    const runsDir = ws.path('runs');
    expect((await updateLockFile(specAt(ws.dir), { s: locked({ lr: 1 }) }, { runsDir: ws.path('elsewhere') })).changed).toBe(true);
    const memo = LockMemo.of(runsDir, ws.path('pipeline.lock'));
    await memo.put('text', { schemaVersion: 1, pipeline: 'p', stages: {} });
    expect(await memo.get('text')).toBeUndefined();
    const read = await readLockFile(ws.path('pipeline.lock'), 'pipeline.lock', memo);
    expect(read?.lock?.stages.s?.params).toEqual({ lr: 1 });
  });

  it('gc prunes the memos of lock files that are gone or changed (and unreadable or legacy ones), never a young one; dry only counts', async () => {
    ws = await makeWorkspace();
    const runsDir = ws.path('runs');
    const dir = join(runsDir, 'cache', 'lock-memo');
    const memoFileOf: Record<string, string> = {};
    for (const name of ['kept', 'edited', 'deleted', 'young']) {
      const before = new Set(await readdir(dir).catch(() => []));
      await mkdir(ws.path(name));
      await updateLockFile(specAt(ws.path(name)), { s: locked({ lr: 1 }) }, { runsDir });
      memoFileOf[name] = (await readdir(dir)).find((f) => !before.has(f))!;
    }
    await writeFile(join(dir, 'legacy.json'), JSON.stringify({ sha256: 'c'.repeat(64), lock: { schemaVersion: 1, pipeline: 'p', stages: {} } }));
    await writeFile(join(dir, 'garbage.json'), '{not json');
    const edited = ws.path('edited/pipeline.lock');
    await writeFile(edited, (await readFile(edited, 'utf8')).replace('lr: 1', 'lr: 2'));
    await rm(ws.path('deleted/pipeline.lock'));
    await rm(ws.path('young/pipeline.lock'));
    const now = Date.now();
    const old = new Date(now - 3_600_000);
    for (const f of await readdir(dir)) if (f !== memoFileOf.young) await utimes(join(dir, f), old, old);
    const cutoff = now - 60_000;

    expect(await pruneLockMemos(runsDir, { cutoff, dry: true })).toEqual({ kept: 2, removed: 4 });
    expect(await readdir(dir)).toHaveLength(6);
    expect(await pruneLockMemos(runsDir, { cutoff })).toEqual({ kept: 2, removed: 4 });
    expect((await readdir(dir)).sort()).toEqual([memoFileOf.kept, memoFileOf.young].sort());
    // the kept memo still serves its unchanged lock file
    const read = await readLockFile(ws.path('kept/pipeline.lock'), 'pipeline.lock', LockMemo.of(runsDir, ws.path('kept/pipeline.lock')));
    expect(read?.encodedFor).toBe('pipeline.yaml');
    expect(await pruneLockMemos(ws.path('no-runs'), { cutoff })).toEqual({ kept: 0, removed: 0 });
  });
});
