import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runJson } from '../helpers/cli.js';
import { SourceChangedError } from '../../src/core/store/errors.js';
import { openLocalStore } from '../../src/core/store/local-store.js';
import { uncachedHasher } from '../../src/core/hash/stat-cache.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { groupAlive, inspectStore, killHard, readTracker, startCli, waitFor } from './harness.js';

// Issue 7.1: kill -9 of mlpipe while a shell stage or a training stage is running.

let ws: Workspace;
const groups: number[] = [];
afterEach(async () => {
  for (const pgid of groups.splice(0)) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  await ws?.cleanup();
});

// first ── slow      (slow writes half of its out, then waits for the kill)
const shellSpec = `name: killed
stages:
  first:
    run: mkdir -p out && echo first > out/first.txt
    outs: [out/first.txt]
  slow:
    run: mkdir -p out && echo partial > out/slow.txt && echo started > started.flag && sleep \${SLEEP:-30} && echo complete > out/slow.txt
    needs: [first]
    outs: [out/slow.txt]
`;

const iris = readFileSync(join(import.meta.dirname, '..', '..', 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .filter((_, i) => i === 0 || i % 5 === 0)
  .join('\n');

// prepare ── train   (train runs many epochs so it is killed in the middle)
const trainSpec = `name: killed-training
params:
  epochs: 100000
stages:
  prepare:
    uses: preprocess
    with: { input: iris.csv, target: species, split: { test: 0.2, validation: 0.2, seed: 1 } }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: mlp, hidden_units: [4] }
      epochs: \${params.epochs}
      batch_size: 8
      seed: 1
`;

describe('kill -9 in the middle of a stage', () => {
  it('shell stage: the store holds only whole objects, the next run marks the run interrupted, stops the orphaned command and re-runs only that stage', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': shellSpec });
    const runsDir = ws.path('runs');
    const killed = startCli(['run', 'pipeline.yaml'], ws.dir);
    // mlpipe records the command (runs/tmp/shell-PGID.json) once it has spawned it, so the command's
    // own first write can come first on a busy machine: wait for both.
    const markersNow = () => (existsSync(join(runsDir, 'tmp')) ? readdirSync(join(runsDir, 'tmp')).filter((n) => n.startsWith('shell-')) : []);
    await waitFor('the slow stage to start and its command to be recorded', () => existsSync(ws.path('started.flag')) && markersNow().length > 0, killed);
    await killHard(killed);

    const markers = markersNow();
    expect(markers).toHaveLength(1);
    const pgid = Number(/shell-(\d+)\.json/.exec(markers[0])![1]);
    expect(groupAlive(pgid)).toBe(true);
    groups.push(pgid);

    const store = inspectStore(runsDir);
    expect(store.badObjects).toEqual([]);
    expect(store.badManifests).toEqual([]);
    expect(Object.values(store.stageOf)).toEqual(['first']);
    const before = readTracker(runsDir);
    expect(before.integrity).toEqual(['ok']);
    expect(before.runs.map((r) => r.status)).toEqual(['running']);

    const next = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir, env: { SLEEP: '0' } });
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`stopped the command of stage slow that killed run ${before.runs[0].id} left running (process group ${pgid})`);
    await waitFor('the command\'s processes to be gone', () => !groupAlive(pgid));
    expect(next.json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['first', 'completed', true],
      ['slow', 'completed', false],
    ]);
    expect(readFileSync(ws.path('out/slow.txt'), 'utf8')).toBe('complete\n');
    const after = readTracker(runsDir);
    expect(after.integrity).toEqual(['ok']);
    expect(after.runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    expect(after.stagesOf(before.runs[0].id)).toEqual([
      ['first', 'completed'],
      ['slow', 'interrupted'],
    ]);
    const final = inspectStore(runsDir);
    expect(final.badObjects).toEqual([]);
    expect(final.badManifests).toEqual([]);
    expect(final.temps).toEqual([]);
    expect(readdirSync(join(runsDir, 'tmp'))).toEqual([]);
  });

  it('training stage: the half-trained model never reaches the store; the next run reuses prepare and trains again', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': trainSpec, 'iris.csv': iris });
    const runsDir = ws.path('runs');
    const killed = startCli(['run', 'pipeline.yaml'], ws.dir);
    await waitFor('training to reach epoch 3', () => /train │ epoch 3\//.test(killed.stderr()), killed);
    await killHard(killed);

    const leftovers = readdirSync(join(runsDir, 'tmp'));
    expect(leftovers.some((n) => n.includes('-train-'))).toBe(true);
    const store = inspectStore(runsDir);
    expect(store.badObjects).toEqual([]);
    expect(store.badManifests).toEqual([]);
    expect(Object.values(store.stageOf)).toEqual(['prepare']);
    expect(readTracker(runsDir).integrity).toEqual(['ok']);

    const next = await runJson(['run', 'pipeline.yaml', '--set', 'params.epochs=2'], { cwd: ws.dir });
    expect(next.code).toBe(0);
    expect(next.json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['prepare', 'completed', true],
      ['train', 'completed', false],
    ]);
    const after = readTracker(runsDir);
    expect(after.integrity).toEqual(['ok']);
    expect(after.runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    expect(after.stagesOf(after.runs[0].id)).toEqual([
      ['prepare', 'completed'],
      ['train', 'interrupted'],
    ]);
    expect(readdirSync(join(runsDir, 'tmp'))).toEqual([]);
    const final = inspectStore(runsDir);
    expect(final.badObjects).toEqual([]);
    expect(final.badManifests).toEqual([]);
    expect(Object.values(final.stageOf).sort()).toEqual(['prepare', 'train']);
  });
});

describe('an orphaned command writing outs later', () => {
  it('cannot slip other bytes under a digest: an out rewritten (same size) between hashing and storing is refused, and nothing is stored', async () => {
    ws = await makeWorkspace({ 'out.txt': 'original bytes\n' });
    const store = openLocalStore(ws.path('runs'));
    const [hashed] = await uncachedHasher.hashAll([ws.path('out.txt')]);
    writeFileSync(ws.path('out.txt'), 'ORIGINAL BYTES\n');
    const error = await store.put(hashed!.hash, ws.path('out.txt'), { size: hashed!.size }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceChangedError);
    expect((error as Error).message).toContain(`${ws.path('out.txt')} changed while it was being stored: expected bytes hashing to ${hashed!.hash}`);
    expect(await store.has(hashed!.hash)).toBe(false);
    expect(inspectStore(ws.path('runs')).temps).toEqual([]);
  });
});
