import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { openLocalStore } from '../../src/core/store/local-store.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import { collectGarbageIn, GC_SLACK_MS } from '../../src/app/gc/collect-garbage.js';
import { ageStore, inspectStore, startCli, waitFor } from './harness.js';

// Issue 7.9: `mlpipe gc` removes what no kept run and no registered model needs, never what is
// referenced, and never what a concurrent run is committing.

let ws: Workspace;
afterEach(async () => ws?.cleanup());

const HOUR = 3_600_000;

// make ── use     (make is the same in every run; use depends on params.tag)
const spec = `name: gc
params:
  tag: one
stages:
  make:
    run: mkdir -p out && cp input.txt out/data.txt
    deps: [input.txt]
    outs: [out/data.txt]
  use:
    run: (cat \${stages.make.outputs.out/data.txt}; echo "$TAG") > out/tagged.txt
    env: { TAG: "\${params.tag}" }
    outs: [out/tagged.txt]
`;

type Summary = { runId: string; stages: { name: string; cached: boolean }[]; artifacts: { stage: string; digest: string }[] };

async function run(tag: string) {
  const r = await runJson<Summary>(['run', 'pipeline.yaml', '--set', `params.tag=${tag}`], { cwd: ws.dir });
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

const useDigest = (s: Summary) => s.artifacts.find((a) => a.stage === 'use')!.digest;
const cached = (s: Summary) => s.stages.map((st) => [st.name, st.cached]);

async function twoRuns() {
  ws = await makeWorkspace({ 'pipeline.yaml': spec, 'input.txt': 'shared data\n' });
  const one = await run('one');
  const two = await run('two');
  return { one, two };
}

describe('mlpipe gc', () => {
  it('removes only what the deleted run alone used (after --dry reported the same and removed nothing); kept runs stay fully restorable', async () => {
    const { one, two } = await twoRuns();
    rmSync(ws.path(`runs/${one.runId}`), { recursive: true });
    ageStore(ws.path('runs'), HOUR);
    const before = inspectStore(ws.path('runs'));
    expect(before.objects).toHaveLength(3);

    const dry = await runJson(['gc', '--dry'], { cwd: ws.dir });
    expect(dry.code).toBe(0);
    expect(dry.json).toMatchObject({
      dry: true,
      runs: { total: 2, kept: 1, withFolder: 1 },
      manifests: { kept: 2, removed: 1, young: 0 },
      objects: { kept: 2, removed: 1, young: 0 },
    });
    expect(inspectStore(ws.path('runs'))).toEqual(before);

    const real = await runJson(['gc'], { cwd: ws.dir });
    expect(real.code).toBe(0);
    expect({ ...real.json, dry: true, cutoff: dry.json.cutoff }).toEqual({ ...dry.json, staleTemps: 0 });
    const after = inspectStore(ws.path('runs'));
    expect(after.objects).toEqual(before.objects.filter((d) => d !== useDigest(one)));
    expect(after.badManifests).toEqual([]);
    expect(after.badObjects).toEqual([]);

    expect(cached(await run('two'))).toEqual([
      ['make', true],
      ['use', true],
    ]);
    const again = await run('one');
    expect(cached(again)).toEqual([
      ['make', true],
      ['use', false],
    ]);
    expect(useDigest(again)).toBe(useDigest(one));
    expect(useDigest(two)).not.toBe(useDigest(one));
    const human = await runCli(['gc', '--help'], { cwd: ws.dir });
    expect(human.stdout.replace(/\s+/g, ' ')).toMatch(/A run is kept while it is running, while its folder runs\/<id>\/ exists, or when a registered model/);
  });

  it('keeps the entries of a run whose folder is gone when a registered model version came from it', async () => {
    const { one } = await twoRuns();
    const tracker = await openTracker(ws.path('runs'));
    await tracker.registerModel({ name: 'm', runId: one.runId, stage: 'use', artifactHash: useDigest(one), path: 'runs/models/m/1', metrics: {} });
    await tracker.close();
    rmSync(ws.path(`runs/${one.runId}`), { recursive: true });
    ageStore(ws.path('runs'), HOUR);
    const r = await runJson(['gc'], { cwd: ws.dir });
    expect(r.json).toMatchObject({ runs: { kept: 2, withModel: 1 }, manifests: { removed: 0 }, objects: { removed: 0 } });
    expect(inspectStore(ws.path('runs')).objects).toHaveLength(3);
  });

  it('never removes entries stored after its cutoff, even unreferenced ones', async () => {
    const before = Date.now();
    const { one } = await twoRuns();
    rmSync(ws.path(`runs/${one.runId}`), { recursive: true });
    const r = await collectGarbageIn(ws.path('runs'), { now: before + GC_SLACK_MS });
    expect(r.cutoff).toBe(new Date(before).toISOString());
    expect(r).toMatchObject({ manifests: { removed: 0, young: 1 }, objects: { removed: 0, kept: 3 } });
    expect(inspectStore(ws.path('runs')).objects).toHaveLength(3);
  });

  it('is safe while another run is committing: the paused run\'s new objects survive gc, and it then finishes with a complete cache entry', async () => {
    const { one } = await twoRuns();
    rmSync(ws.path(`runs/${one.runId}`), { recursive: true });
    ageStore(ws.path('runs'), HOUR);
    const resume = ws.path('resume.flag');
    const third = startCli(['run', 'pipeline.yaml', '--set', 'params.tag=three', '--json'], ws.dir, {
      MLPIPE_TEST_PAUSE_BEFORE: 'store-manifest',
      MLPIPE_TEST_RESUME_WHEN: resume,
    });
    await waitFor('the third run to pause before its manifest', () => third.stderr().includes('MLPIPE_TEST_PAUSED store-manifest'), third);
    const objectsWhilePaused = inspectStore(ws.path('runs')).objects;
    expect(objectsWhilePaused).toHaveLength(4);

    const r = await runJson(['gc'], { cwd: ws.dir });
    expect(r.json).toMatchObject({ runs: { running: 1 }, manifests: { removed: 1 }, objects: { removed: 1, young: 1 } });
    writeFileSync(resume, '');
    expect(await third.exited).toBe(0);
    const summary = JSON.parse(third.stdout()) as Summary;
    const store = inspectStore(ws.path('runs'));
    expect(store.objects).toContain(useDigest(summary));
    expect(store.badManifests).toEqual([]);
    expect(store.badObjects).toEqual([]);
    expect(cached(await run('three'))).toEqual([
      ['make', true],
      ['use', true],
    ]);
  });

  it('an object a run stores again while gc removes it is never lost (rename aside, then re-check)', async () => {
    ws = await makeWorkspace({ 'src.bin': 'the same bytes\n' });
    const store = openLocalStore(ws.path('runs'));
    const digest = (await import('@napi-rs/blake-hash')).blake3(readFileSync(ws.path('src.bin'))).toString('hex');
    const size = 15;
    await store.put(digest, ws.path('src.bin'), { size });
    for (let round = 0; round < 60; round++) {
      const old = new Date(Date.now() - HOUR);
      if (existsSync(store.objectPath(digest))) utimesSync(store.objectPath(digest), old, old);
      const cutoff = Date.now() - 1_000;
      await Promise.all([store.put(digest, ws.path('src.bin'), { size }), store.removeIfOlderThan(digest, cutoff)]);
      expect(await store.has(digest)).toBe(true);
    }
    expect(inspectStore(ws.path('runs')).temps).toEqual([]);
  });

  it('drops the lock-file memo of a lock file that is gone (cache/lock-memo/), keeps the one of a lock file still there', async () => {
    await twoRuns();
    const memoDir = ws.path('runs/cache/lock-memo');
    const { readdirSync, renameSync } = await import('node:fs');
    expect(readdirSync(memoDir)).toHaveLength(1);
    // the pipeline moves to another folder: its old memo can never be served again
    renameSync(ws.path('pipeline.yaml'), ws.path('moved.yaml'));
    rmSync(ws.path('pipeline.lock'));
    expect((await runCli(['run', 'moved.yaml'], { cwd: ws.dir })).code).toBe(0);
    expect(readdirSync(memoDir)).toHaveLength(2);
    const old = new Date(Date.now() - HOUR);
    for (const f of readdirSync(memoDir)) utimesSync(ws.path(`runs/cache/lock-memo/${f}`), old, old);
    const dry = await runJson(['gc', '--dry'], { cwd: ws.dir });
    expect(dry.json.lockMemos).toEqual({ kept: 1, removed: 1 });
    expect(readdirSync(memoDir)).toHaveLength(2);
    const r = await runCli(['gc'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lock-file memos of moved, deleted or changed lock files: removed 1, kept 1');
    expect(readdirSync(memoDir)).toHaveLength(1);
    expect((await runJson(['gc', '--dry'], { cwd: ws.dir })).json.lockMemos).toEqual({ kept: 1, removed: 0 });
  });
});
