import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { f } from '../../../src/schema/fields.js';
import { openLocalStore } from '../../../src/core/store/local-store.js';
import { StageCache } from '../../../src/core/cache/stage-cache.js';
import { uncachedHasher } from '../../../src/core/hash/stat-cache.js';
import { runStageJob } from '../../../src/core/queue/run-stage-job.js';
import { shipStage, type StageJobData } from '../../../src/core/queue/stage-job.js';
import type { StageKind } from '../../../src/core/stage-kind.js';
import type { StageSpec } from '../../../src/core/spec/types.js';

// A worker that runs a stage while another execution stores the same key first (two workers, or a
// re-delivered job): the first entry stays, and this execution's other files are nondeterminism.
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const KEY = 'abc123def456';

function setup(mine: string, theirs: string) {
  const root = mkdtempSync(join(tmpdir(), 'mlpipe-job-'));
  temps.push(root);
  const remote = openLocalStore(join(root, 'remote'));
  const draw: StageKind = {
    kind: 'draw',
    version: 1,
    description: 'Writes one file; meanwhile another worker stores the same key.',
    config: f.object('None.', {}),
    outputs: () => ({ out: { path: 'out.txt', location: 'stage' } }),
    async run(ctx) {
      await writeFile(ctx.outputs.out!, mine);
      const other = join(root, 'other.txt');
      writeFileSync(other, theirs);
      await new StageCache(remote).save({ key: KEY, stage: 'draw', kind: 'draw', runId: 'r-other', metrics: {}, outputs: { out: { path: other, move: false } }, hasher: uncachedHasher, publish: true });
    },
  };
  const stage: StageSpec = { name: 'draw', kind: 'draw', impl: draw, config: {}, needs: [], refs: [], inputs: [], params: {}, cache: true, retries: 0, labels: [], pos: { line: 1, col: 1 } };
  const job: StageJobData = { schemaVersion: 1, runId: 'r-me', pipeline: 'p', key: KEY, publish: true, stage: shipStage(stage), upstreamStages: {}, inputs: {}, upstream: {}, upstreamMetrics: {}, backend: 'cpu', enqueuedAt: Date.now() };
  const opts = { kinds: new Map([['draw', draw]]), runsDir: join(root, 'worker'), remote, worker: 'w1', signal: new AbortController().signal, onProgress: () => {}, onLine: () => {} };
  return { job, opts };
}

describe('runStageJob when another execution stored the key first', () => {
  it('returns the entry that stays, and the files this execution wrote differently', async () => {
    const { job, opts } = setup('mine', 'theirs');
    const result = await runStageJob(job, opts);
    expect(result).toMatchObject({ duplicate: true, manifest: { runId: 'r-other' }, nondeterministic: { previousRunId: 'r-other', files: ['out'] } });
  });

  it('says nothing when both wrote the same files', async () => {
    const { job, opts } = setup('same', 'same');
    const result = await runStageJob(job, opts);
    expect(result).toMatchObject({ duplicate: true, manifest: { runId: 'r-other' } });
    expect(result).not.toHaveProperty('nondeterministic');
  });
});

describe('runStageJob of a forced job (run --force --executor queue)', () => {
  it('runs although a complete entry is under the key, replaces it, and reports the files that differ from it', async () => {
    const { job, opts } = setup('forced', 'earlier');
    // the "other" execution stores its entry first; an unforced job would hand it back unrun
    const first = await runStageJob(job, opts);
    expect(first).toMatchObject({ duplicate: true, manifest: { runId: 'r-other' } });
    const forced = await runStageJob({ ...job, runId: 'r-forced', force: true }, opts);
    expect(forced).toMatchObject({ duplicate: false, manifest: { runId: 'r-forced' }, nondeterministic: { previousRunId: 'r-other', files: ['out'] } });
    const again = await runStageJob({ ...job, runId: 'r-later' }, opts);
    expect(again).toMatchObject({ duplicate: true, manifest: { runId: 'r-forced' } });
  });
});
