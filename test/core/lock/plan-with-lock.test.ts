import { describe, expect, it } from 'vitest';
import { isStale, planRun, type PlanDeps } from '../../../src/core/run/plan-run.js';
import type { PipelineSpec } from '../../../src/core/spec/types.js';
import type { StageManifest } from '../../../src/core/cache/manifest.js';
import { lockEntryOf } from '../../../src/core/lock/lock-entry.js';
import type { LockIndex, LockedStage } from '../../../src/core/lock/lock-file.js';
import { pipelineOf, stage } from '../plan-fixtures.js';

// Issue 11 item 4 and issue 15 item 5: a fresh clone with only the lock file says which stages are
// up to date against it, not "never run"; `status --exit-code` fails on exactly the stale ones.

//   prep ── train ── eval

const spec = pipelineOf(
  stage('prep', [], { inputs: ['data.csv'] }),
  stage('train', ['prep'], { params: { lr: 0.01 }, config: { run: 'train 0.01', deps: [], outs: ['out/train'], env: {} } }),
  stage('eval', ['train']),
);

const manifestFor = (key: string, name: string): StageManifest => ({
  schemaVersion: 1,
  key,
  stage: name,
  kind: 'shell',
  runId: `r-${name}`,
  createdAt: 0,
  outputs: { [`out/${name}`]: { type: 'file', digest: `${name[0]}`.repeat(64), files: [{ path: '', hash: `${name[0]}`.repeat(64), size: 3, mode: 0o644 }] } },
  metrics: {},
});

function deps(manifests: Map<string, StageManifest>, lock?: Record<string, LockedStage>): PlanDeps {
  return {
    inputDigest: async (p) => `digest-of-${p}`,
    cache: { entry: async (key) => manifests.get(key), lastExecution: async () => undefined },
    ...(lock ? { lock: { file: 'pipeline.lock', stage: (n) => lock[n] } satisfies LockIndex } : {}),
  };
}

/** Machine A: runs every stage (outputs by name), then locks what it got. */
async function lockOnA(s: PipelineSpec): Promise<{ manifests: Map<string, StageManifest>; lock: Record<string, LockedStage> }> {
  const manifests = new Map<string, StageManifest>();
  const lock: Record<string, LockedStage> = {};
  for (;;) {
    const plan = await planRun(s, deps(manifests));
    const next = plan.stages.find((p) => p.action === 'run' && p.key);
    if (!next) return { manifests, lock };
    const manifest = manifestFor(next.key!, next.name);
    manifests.set(next.key!, manifest);
    lock[next.name] = lockEntryOf(next.key!, next.material!, manifest)!;
  }
}

describe('planning against the lock file', () => {
  it('a clone with no cache: every stage matches the lock and is up to date, none pending, keyed on the locked upstream outputs', async () => {
    const { lock } = await lockOnA(spec);
    const plan = await planRun(spec, deps(new Map(), lock));
    expect(plan.lockFile).toBe('pipeline.lock');
    expect(plan.stages.map((s) => [s.name, s.action, s.lock, s.reasons[0]?.kind, s.key === lock[s.name]!.key, isStale(plan, s)])).toEqual([
      ['prep', 'run', 'matches', 'locked-not-cached', true, false],
      ['train', 'run', 'matches', 'locked-not-cached', true, false],
      ['eval', 'run', 'matches', 'locked-not-cached', true, false],
    ]);
  });

  it('a clone that reaches the entries (a remote) restores them, still matching the lock', async () => {
    const { manifests, lock } = await lockOnA(spec);
    const plan = await planRun(spec, deps(manifests, lock));
    expect(plan.stages.map((s) => [s.name, s.action, s.lock, s.cachedFrom, isStale(plan, s)])).toEqual([
      ['prep', 'restore', 'matches', 'r-prep', false],
      ['train', 'restore', 'matches', 'r-train', false],
      ['eval', 'restore', 'matches', 'r-eval', false],
    ]);
  });

  it('a changed param makes that stage differ (stale) and the one below pending; the stages above stay up to date', async () => {
    const { lock } = await lockOnA(spec);
    const changed = { ...spec, stages: { ...spec.stages, train: { ...spec.stages.train!, params: { lr: 0.1 }, config: { ...spec.stages.train!.config, run: 'train 0.1' } } } };
    const plan = await planRun(changed, deps(new Map(), lock));
    expect(plan.stages.map((s) => [s.name, s.action, s.lock ?? null, isStale(plan, s)])).toEqual([
      ['prep', 'run', 'matches', false],
      ['train', 'run', 'differs', true],
      ['eval', 'pending', null, true],
    ]);
  });

  it('a stage the lock has no entry for is stale even when cached; without a lock file, only stages that would run are', async () => {
    const { manifests, lock } = await lockOnA(spec);
    const { eval: _, ...withoutEval } = lock;
    const plan = await planRun(spec, deps(manifests, withoutEval));
    expect(plan.stages.map((s) => [s.name, s.action, s.lock, isStale(plan, s)])).toEqual([
      ['prep', 'restore', 'matches', false],
      ['train', 'restore', 'matches', false],
      ['eval', 'restore', 'absent', true],
    ]);
    const unlocked = await planRun(spec, deps(manifests));
    expect(unlocked.lockFile).toBeUndefined();
    expect(unlocked.stages.map((s) => [s.lock ?? null, isStale(unlocked, s)])).toEqual([[null, false], [null, false], [null, false]]);
    const fresh = await planRun(spec, deps(new Map()));
    expect(fresh.stages.map((s) => isStale(fresh, s))).toEqual([true, true, true]);
  });

  it('--force runs every stage for the reason forced, even where the lock matches', async () => {
    const { lock } = await lockOnA(spec);
    const plan = await planRun(spec, deps(new Map(), lock), { force: true });
    expect(plan.stages.map((s) => [s.action, s.reasons[0]?.kind])).toEqual([['run', 'forced'], ['run', 'forced'], ['run', 'forced']]);
  });
});
