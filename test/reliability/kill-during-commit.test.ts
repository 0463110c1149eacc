import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { inspectStore, killHard, readTracker, startCli, waitFor } from './harness.js';

// Issue 7.2: kill -9 while a stage's outputs are being committed to the store. The test-only
// hook MLPIPE_TEST_PAUSE_BEFORE (src/core/store/test-hooks.ts) stops mlpipe at one commit step.

let ws: Workspace;
afterEach(async () => ws?.cleanup());

const iris = readFileSync(join(import.meta.dirname, '..', '..', 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .filter((_, i) => i === 0 || i % 5 === 0)
  .join('\n');

// first ── second    (second is committed while mlpipe is killed)
const specs = {
  'shell outs (copied into the store)': `name: commit
stages:
  first:
    run: mkdir -p out && echo first > out/first.txt
    outs: [out/first.txt]
  second:
    run: mkdir -p out/second && for i in 1 2 3; do echo "part $i" > out/second/$i.txt; done
    needs: [first]
    outs: [out/second]
`,
  'built-in outputs (moved into the store)': `name: commit
stages:
  first:
    run: mkdir -p out && echo first > out/first.txt
    outs: [out/first.txt]
  second:
    uses: preprocess
    needs: [first]
    with: { input: iris.csv, target: species, split: { test: 0.2, seed: 1 } }
`,
};

const cases = [
  ['shell outs (copied into the store)', 'commit'],
  ['shell outs (copied into the store)', 'store-object'],
  ['shell outs (copied into the store)', 'store-manifest'],
  ['built-in outputs (moved into the store)', 'store-object'],
  ['built-in outputs (moved into the store)', 'store-manifest'],
] as const;

describe('kill -9 while outputs are committed', () => {
  it.each(cases)('%s, killed before %s: no partial object or manifest; the next run reuses first and re-runs second', async (kind, point) => {
    ws = await makeWorkspace({ 'pipeline.yaml': specs[kind], 'iris.csv': iris });
    const runsDir = ws.path('runs');
    const reference = await runJson(['run', 'pipeline.yaml', '--stage', 'first'], { cwd: ws.dir });
    expect(reference.code).toBe(0);
    const cachedBefore = inspectStore(runsDir);

    const killed = startCli(['run', 'pipeline.yaml'], ws.dir, { MLPIPE_TEST_PAUSE_BEFORE: point });
    await waitFor(`the pause before ${point}`, () => killed.stderr().includes(`MLPIPE_TEST_PAUSED ${point}`), killed);
    await killHard(killed);

    const store = inspectStore(runsDir);
    expect(store.badObjects).toEqual([]);
    expect(store.badManifests).toEqual([]);
    expect(Object.values(store.stageOf)).toEqual(['first']);
    if (point === 'commit') expect(store.objects).toEqual(cachedBefore.objects);
    if (point === 'store-object') expect(store.temps.length).toBeGreaterThan(0);
    if (point === 'store-manifest') {
      expect(store.objects.length).toBeGreaterThan(cachedBefore.objects.length);
      expect(store.temps).toHaveLength(1);
    }
    const killedRun = readTracker(runsDir);
    expect(killedRun.integrity).toEqual(['ok']);
    expect(killedRun.runs.map((r) => r.status)).toEqual(['completed', 'running']);

    const next = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(next.code).toBe(0);
    expect(next.json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['first', 'completed', true],
      ['second', 'completed', false],
    ]);
    const after = readTracker(runsDir);
    expect(after.integrity).toEqual(['ok']);
    expect(after.runs.map((r) => r.status)).toEqual(['completed', 'interrupted', 'completed']);
    expect(after.stagesOf(after.runs[1].id)).toEqual([
      ['first', 'completed'],
      ['second', 'interrupted'],
    ]);
    const final = inspectStore(runsDir);
    expect(final.badObjects).toEqual([]);
    expect(final.badManifests).toEqual([]);
    expect(final.temps).toEqual([]);
    expect(Object.values(final.stageOf).sort()).toEqual(['first', 'second']);
    expect(readdirSync(join(runsDir, 'tmp'))).toEqual([]);
    if (kind.startsWith('shell')) expect(readFileSync(ws.path('out/second/3.txt'), 'utf8')).toBe('part 3\n');
  });
});
