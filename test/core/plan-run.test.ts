import { describe, expect, it } from 'vitest';
import { planRun, selectedStages, type PlanDeps } from '../../src/core/run/plan-run.js';
import { runWithConcurrency } from '../../src/core/run/concurrency.js';
import { explainKeyChange } from '../../src/core/cache/reasons.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import type { StageManifest } from '../../src/core/cache/manifest.js';
import type { KeyMaterial } from '../../src/core/cache/key.js';
import type { LastExecution } from '../../src/core/cache/lookup.js';
import { lookupAfterUpstream } from '../../src/core/cache/lookup.js';
import { reasonText } from '../../src/render/reasons.js';
import { pipelineOf, stage } from './plan-fixtures.js';

//   prep ──┬── train ── eval
//          └── stats

const spec = pipelineOf(
  stage('prep', [], { inputs: ['data.csv'] }),
  stage('train', ['prep'], { params: { lr: 0.01 }, config: { run: 'train 0.01', deps: [], outs: ['out/train'], env: {} } }),
  stage('eval', ['train']),
  stage('stats', ['prep']),
);

function depsWith(manifests: Map<string, StageManifest>, last: Record<string, LastExecution> = {}): PlanDeps {
  return {
    inputDigest: async (p) => `digest-of-${p}`,
    cache: { entry: async (key) => manifests.get(key), lastExecution: async (s) => last[s] },
  };
}

const manifestFor = (key: string, stageName: string, digest = `d-${stageName}`): StageManifest => ({
  schemaVersion: 1,
  key,
  stage: stageName,
  kind: 'shell',
  runId: `r-${stageName}`,
  createdAt: 0,
  outputs: { [`out/${stageName}`]: { type: 'file', digest, files: [] } },
  metrics: {},
});

const texts = (reasons: { kind: string }[]) => reasons.map((r) => reasonText(r as never));

/** Plans, then records every stage that would run as executed with outputs `d-NAME`; returns the history and entries. */
async function runAll(s: PipelineSpec): Promise<{ manifests: Map<string, StageManifest>; last: Record<string, LastExecution> }> {
  const manifests = new Map<string, StageManifest>();
  const last: Record<string, LastExecution> = {};
  for (;;) {
    const plan = await planRun(s, depsWith(manifests, last));
    const next = plan.stages.find((p) => p.action === 'run' && p.key);
    if (!next) return { manifests, last };
    manifests.set(next.key!, manifestFor(next.key!, next.name));
    last[next.name] = { key: next.key!, material: next.material! };
  }
}

describe('planRun', () => {
  it('plans the first stage to run and everything below it as pending on it, in topological order', async () => {
    const plan = await planRun(spec, depsWith(new Map()));
    expect(plan.stages.map((s) => [s.name, s.action, texts(s.reasons)[0], s.after ?? null, s.ifUnchanged ?? null])).toEqual([
      ['prep', 'run', 'never run', null, null],
      ['train', 'pending', 'upstream prep re-runs', ['prep'], null],
      ['eval', 'pending', 'upstream prep re-runs', ['prep'], null],
      ['stats', 'pending', 'upstream prep re-runs', ['prep'], null],
    ]);
    expect(plan.stages[1]!.key).toBeUndefined();
    expect(plan.stages[1]!.inputs).toEqual({});
    expect(plan.stages[0]!.inputs).toEqual({ 'data.csv': 'digest-of-data.csv' });
  });

  it('restores stages whose key has an entry and explains, as data, the ones that changed', async () => {
    const manifests = new Map<string, StageManifest>();
    const first = await planRun(spec, depsWith(manifests));
    const prepKey = first.stages[0]!.key!;
    manifests.set(prepKey, manifestFor(prepKey, 'prep'));
    const second = await planRun(spec, depsWith(manifests));
    expect(second.stages[0]).toMatchObject({ action: 'restore', cachedFrom: 'r-prep', reasons: [{ kind: 'identical-inputs' }] });
    const train = second.stages[1]!;
    expect(train.action).toBe('run');
    const prevMaterial = { ...train.material!, params: { lr: 0.001 }, config: { ...train.material!.config, run: 'train 0.001' } };
    const third = await planRun(spec, depsWith(manifests, { train: { key: 'old', material: prevMaterial } }));
    expect(third.stages[1]!.reasons).toEqual([{ kind: 'param', name: 'lr', from: 0.001, to: 0.01 }]);
    expect(texts(third.stages[1]!.reasons)).toEqual(['param lr 0.001 → 0.01']);
  });

  it('says what a pending stage does if the re-run gives the outputs of last time: restored, or run for its own changes', async () => {
    const { manifests, last } = await runAll(spec);
    const changed = { ...spec, stages: { ...spec.stages, prep: { ...spec.stages.prep!, config: { ...spec.stages.prep!.config, run: 'echo prep v2' } } } };
    const plan = await planRun(changed, depsWith(manifests, last));
    expect(plan.stages.map((s) => [s.name, s.action, s.ifUnchanged ?? null])).toEqual([
      ['prep', 'run', null],
      ['train', 'pending', 'restore'],
      ['eval', 'pending', 'restore'],
      ['stats', 'pending', 'restore'],
    ]);
    expect(texts(plan.stages[0]!.reasons)).toEqual(['command changed']);

    const alsoTrain = { ...changed, stages: { ...changed.stages, train: { ...spec.stages.train!, params: { lr: 0.1 }, config: { ...spec.stages.train!.config, run: 'train 0.1' } } } };
    const plan2 = await planRun(alsoTrain, depsWith(manifests, last));
    expect(plan2.stages.map((s) => [s.name, s.action, s.ifUnchanged ?? null, texts(s.reasons)])).toEqual([
      ['prep', 'run', null, ['command changed']],
      ['train', 'pending', 'run', ['upstream prep re-runs', 'param lr 0.01 → 0.1']],
      ['eval', 'pending', null, ['upstream prep re-runs']],
      ['stats', 'pending', 'restore', ['upstream prep re-runs']],
    ]);
  });

  it('says "cache entry missing" when the key is unchanged but the outputs are gone', async () => {
    const plan = await planRun(spec, depsWith(new Map()));
    const prep = plan.stages[0]!;
    const again = await planRun(spec, depsWith(new Map(), { prep: { key: prep.key!, material: prep.material! } }));
    expect(again.stages[0]!.reasons).toEqual([{ kind: 'entry-missing' }]);
  });

  it('forces every stage with force (never pending), and always runs cache: false stages, also below a re-run', async () => {
    const plan = await planRun(spec, depsWith(new Map()), { force: true });
    expect(plan.stages.every((s) => s.action === 'run' && s.reasons[0]!.kind === 'forced')).toBe(true);
    const noCache = { ...spec, stages: { ...spec.stages, prep: { ...spec.stages.prep!, cache: false }, stats: { ...spec.stages.stats!, cache: false } } };
    const p2 = await planRun(noCache, depsWith(new Map()));
    expect(p2.stages.map((s) => [s.name, s.action, texts(s.reasons)[0]])).toEqual([
      ['prep', 'run', 'cache disabled for this stage'],
      ['train', 'pending', 'upstream prep re-runs'],
      ['eval', 'pending', 'upstream prep re-runs'],
      ['stats', 'run', 'cache disabled for this stage'],
    ]);
  });

  it('selects a stage and what it needs for --stage', () => {
    expect(selectedStages(spec, ['eval'])).toEqual(['prep', 'train', 'eval']);
    expect(selectedStages(spec, ['stats'])).toEqual(['prep', 'stats']);
    expect(selectedStages(spec)).toEqual(spec.order);
  });
});

describe('lookupAfterUpstream (a pending stage, decided during the run)', () => {
  it('restores when the new upstream outputs give a key with an entry, else runs because the upstream re-ran', async () => {
    const { manifests, last } = await runAll(spec);
    const train = spec.stages.train!;
    const index = depsWith(manifests, last).cache;
    const same = await lookupAfterUpstream(train, {}, { 'prep.out/prep': 'd-prep' }, ['prep'], index);
    expect([same.action, texts(same.reasons)]).toEqual(['restore', ['restored: upstream outputs identical']]);
    const other = await lookupAfterUpstream(train, {}, { 'prep.out/prep': 'd-new' }, ['prep'], index);
    expect([other.action, texts(other.reasons)]).toEqual(['run', ['upstream prep re-runs']]);
    expect(other.key).not.toBe(same.key);
  });
});

describe('explainKeyChange', () => {
  const base: KeyMaterial = { kind: 'shell', version: 1, config: { run: 'a', env: { X: '1' } }, params: {}, inputs: { 'a.csv': 'aaaa1111' }, upstream: {}, outputs: {} };
  it('names inputs, commands and env changes', () => {
    const cur = { ...base, config: { run: 'b', env: { X: '2' } }, inputs: { 'a.csv': 'bbbb2222', 'new.csv': 'cccc' } };
    expect(explainKeyChange(base, cur)).toEqual([
      { kind: 'input-changed', path: 'a.csv', from: 'aaaa1111', to: 'bbbb2222' },
      { kind: 'input-changed', path: 'new.csv', from: null, to: 'cccc' },
      { kind: 'env-changed', name: 'X' },
      { kind: 'command-changed' },
    ]);
    expect(texts(explainKeyChange(base, cur))).toEqual(['input a.csv changed (aaaa… → bbbb…)', 'input new.csv added', 'env X changed', 'command changed']);
  });

  it('names the code file that changed, was newly imported or is no longer imported (code:PATH inputs), after the declared inputs', () => {
    const prev = { ...base, inputs: { ...base.inputs, 'code:lib/b.mjs': 'bbbb0000', 'code:lib/old.mjs': 'dddd0000' } };
    const cur = { ...base, inputs: { 'a.csv': 'aaaa2222', 'code:lib/b.mjs': 'bbbb1111', 'code:lib/new.mjs': 'eeee0000' } };
    expect(explainKeyChange(prev, cur)).toEqual([
      { kind: 'input-changed', path: 'a.csv', from: 'aaaa1111', to: 'aaaa2222' },
      { kind: 'code-changed', path: 'lib/b.mjs', from: 'bbbb0000', to: 'bbbb1111' },
      { kind: 'code-changed', path: 'lib/new.mjs', from: null, to: 'eeee0000' },
      { kind: 'code-changed', path: 'lib/old.mjs', from: 'dddd0000', to: null },
    ]);
    expect(texts(explainKeyChange(prev, cur)).slice(1)).toEqual([
      'code lib/b.mjs changed (bbbb… → bbbb…)',
      'code lib/new.mjs added (the command now runs or imports it)',
      'code lib/old.mjs removed (the command no longer imports it)',
    ]);
  });
});

describe('runWithConcurrency', () => {
  it('starts jobs when their needs are done, at most `limit` at once', async () => {
    const log: string[] = [];
    let active = 0;
    let peak = 0;
    const job = (id: string, needs: string[]) => ({
      id,
      needs,
      run: async () => {
        active++;
        peak = Math.max(peak, active);
        log.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${id}`);
        active--;
      },
    });
    await runWithConcurrency([job('a', []), job('b', ['a']), job('c', ['a']), job('d', ['b', 'c'])], 2);
    expect(peak).toBe(2);
    expect(log.indexOf('end a')).toBeLessThan(log.indexOf('start b'));
    expect(log.indexOf('end b')).toBeLessThan(log.indexOf('start d'));
    expect(log.indexOf('end c')).toBeLessThan(log.indexOf('start d'));
  });
});
