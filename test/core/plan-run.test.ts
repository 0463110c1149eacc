import { describe, expect, it } from 'vitest';
import { planRun, selectStages, type PlanDeps } from '../../src/core/run/plan-run.js';
import { runWithConcurrency } from '../../src/core/run/concurrency.js';
import { explainKeyChange } from '../../src/core/cache/reasons.js';
import type { PipelineSpec, StageSpec } from '../../src/core/spec/types.js';
import type { StageManifest } from '../../src/core/store/types.js';
import type { KeyMaterial } from '../../src/core/cache/key-material.js';
import { shell } from '../../src/stages/shell.js';

//   prep ──┬── train ── eval
//          └── stats
const stage = (name: string, needs: string[], extra: Partial<StageSpec> = {}): StageSpec => ({
  name,
  kind: 'shell',
  impl: shell,
  config: { run: `echo ${name}`, deps: [], outs: [`out/${name}`], env: {} },
  needs,
  refs: [],
  inputs: [],
  params: {},
  cache: true,
  pos: { line: 1, col: 1 },
  ...extra,
});

const spec: PipelineSpec = {
  name: 'p',
  file: '/w/pipeline.yaml',
  dir: '/w',
  params: {},
  stages: {
    prep: stage('prep', [], { inputs: ['data.csv'] }),
    train: stage('train', ['prep'], { params: { lr: 0.01 }, config: { run: 'train 0.01', deps: [], outs: ['out/train'], env: {} } }),
    eval: stage('eval', ['train']),
    stats: stage('stats', ['prep']),
  },
  order: ['prep', 'train', 'eval', 'stats'],
  specHash: 'x',
  kinds: new Map([['shell', shell]]),
};

function depsWith(manifests: Map<string, StageManifest>, last: Record<string, { key: string; material: KeyMaterial }> = {}): PlanDeps {
  return {
    inputDigest: async (p) => `digest-of-${p}`,
    manifest: async (key) => manifests.get(key),
    outputsAvailable: async () => true,
    lastExecution: (s) => last[s],
  };
}

const manifestFor = (key: string, stageName: string): StageManifest => ({
  schemaVersion: 1,
  key,
  stage: stageName,
  kind: 'shell',
  runId: `r-${stageName}`,
  createdAt: 0,
  outputs: { [`out/${stageName}`]: { type: 'file', digest: `d-${stageName}`, files: [] } },
  metrics: {},
});

describe('planRun', () => {
  it('plans every stage to run when nothing was ever run, in topological order', async () => {
    const plan = await planRun(spec, depsWith(new Map()));
    expect(plan.stages.map((s) => [s.name, s.action, s.reasons[0]])).toEqual([
      ['prep', 'run', 'never run'],
      ['train', 'run', 'upstream prep re-runs'],
      ['eval', 'run', 'upstream train re-runs'],
      ['stats', 'run', 'upstream prep re-runs'],
    ]);
  });

  it('restores stages whose key has a manifest and explains the ones that changed', async () => {
    const manifests = new Map<string, StageManifest>();
    const first = await planRun(spec, depsWith(manifests));
    const prepKey = first.stages[0].key!;
    manifests.set(prepKey, manifestFor(prepKey, 'prep'));
    const second = await planRun(spec, depsWith(manifests));
    expect(second.stages[0]).toMatchObject({ action: 'restore', cachedFrom: 'r-prep', reasons: ['restored: identical inputs'] });
    const train = second.stages[1];
    expect(train.action).toBe('run');
    const prevMaterial = { ...train.material!, params: { lr: 0.001 }, config: { ...train.material!.config, run: 'train 0.001' } };
    const third = await planRun(spec, depsWith(manifests, { train: { key: 'old', material: prevMaterial } }));
    expect(third.stages[1].reasons).toEqual(['param lr 0.001 → 0.01']);
  });

  it('says "cache entry missing" when the key is unchanged but the outputs are gone', async () => {
    const plan = await planRun(spec, depsWith(new Map()));
    const prep = plan.stages[0];
    const again = await planRun(spec, depsWith(new Map(), { prep: { key: prep.key!, material: prep.material! } }));
    expect(again.stages[0].reasons).toEqual(['cache entry missing']);
  });

  it('forces every stage with force, and always runs cache: false stages', async () => {
    const plan = await planRun(spec, depsWith(new Map()), { force: true });
    expect(plan.stages.every((s) => s.action === 'run' && s.reasons[0] === 'forced (--force)')).toBe(true);
    const noCache = { ...spec, stages: { ...spec.stages, prep: { ...spec.stages.prep, cache: false } } };
    const p2 = await planRun(noCache, depsWith(new Map()));
    expect(p2.stages[0].reasons).toEqual(['cache disabled for this stage']);
  });

  it('selects a stage and what it needs for --stage', () => {
    expect(selectStages(spec, ['eval'])).toEqual(['prep', 'train', 'eval']);
    expect(selectStages(spec, ['stats'])).toEqual(['prep', 'stats']);
    expect(selectStages(spec)).toEqual(spec.order);
  });
});

describe('explainKeyChange', () => {
  const base: KeyMaterial = { kind: 'shell', version: 1, config: { run: 'a', env: { X: '1' } }, params: {}, inputs: { 'a.csv': 'aaaa1111' }, upstream: {}, outputs: {} };
  it('names inputs, commands and env changes', () => {
    const cur = { ...base, config: { run: 'b', env: { X: '2' } }, inputs: { 'a.csv': 'bbbb2222', 'new.csv': 'cccc' } };
    expect(explainKeyChange(base, cur)).toEqual([
      'input a.csv changed (aaaa… → bbbb…)',
      'input new.csv added',
      'env X changed',
      'command changed',
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
