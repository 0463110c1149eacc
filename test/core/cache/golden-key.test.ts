import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { stageKinds } from '../../../src/stages/index.js';
import { planPipeline, runPipeline } from '../../../src/core/run/run-pipeline.js';
import { cacheKey, type KeyMaterial } from '../../../src/core/cache/key.js';
import { reasonLine } from '../../../src/render/reasons.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';
import { GOLDEN_PIPELINE as PIPELINE } from './golden-pipeline.js';

// A cache key is a promise to every existing cache: the same stage with the same inputs must keep
// its key across releases and machines. If one of these literals has to change, the change of the
// key must be deliberate: bump the `version` of the stage kind whose behaviour changed (so old
// entries are not restored by mistake) and update the literal in the same commit.

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('golden cache keys', () => {
  it('a fixed shell pipeline over fixed inputs has fixed keys, the downstream one over the upstream output digest', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'in.txt': 'one line\n' });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!loaded.ok) throw new Error('spec did not load');
    const runsDir = join(ws.dir, 'runs');
    const before = await planPipeline(loaded.spec, runsDir);
    expect(before.stages[0]!.key).toBe(GOLDEN.a);
    const run = await runPipeline({ spec: loaded.spec, runsDir, jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });
    expect(run.status).toBe('completed');
    const after = await planPipeline(loaded.spec, runsDir);
    expect(after.stages.map((s) => [s.name, s.action, s.key])).toEqual([
      ['a', 'restore', GOLDEN.a],
      ['b', 'restore', GOLDEN.b],
    ]);
  });

  it('the key of a literal key material is its canonical-JSON SHA-256', () => {
    const material: KeyMaterial = {
      kind: 'train',
      version: 1,
      config: { epochs: 3, data: '${stages.prep.outputs.dataset}', optimizer: { name: 'adam', learning_rate: 0.01 } },
      params: { lr: 0.01 },
      inputs: { 'data/in.csv': 'ab'.repeat(32) },
      upstream: { 'prep.dataset': 'cd'.repeat(32) },
      outputs: { model: 'stage:model' },
    };
    expect(cacheKey(material)).toBe(GOLDEN.literal);
  });
});

// a and b as of shell kind v3 (issue 15 item 2: commands run with sh -e, run: may be a list, persist outs);
// v2 (42ee57a, params shell-quoted into run: commands) had a f1c447c0…, b d20dbf00….
const GOLDEN = {
  a: 'd7d9a2895a244a6853e2c6d33960743d6d87f77b6912d2a10cfef2204ac61ee2',
  b: 'a85b3e400ba1dd194b4ab2624c75e51d760bb3d9c1b5d6ee027a321374536d3f',
  literal: 'f6224f6fc8f3c180ffcafa11c52bc5e8c491b701bfdedf2f2c89d36fad4d2480',
};
