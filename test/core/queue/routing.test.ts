import { afterEach, describe, expect, it } from 'vitest';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { stageKinds } from '../../../src/stages/index.js';
import { queueNameFor, queuesServedBy, shipStage, unshipStage, decodeFailure, encodeFailure } from '../../../src/core/queue/stage-job.js';
import { StageFailedError } from '../../../src/errors.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('queue routing', () => {
  it('sends a stage to the queue of its label set, served by every worker that has all of them', () => {
    expect(queueNameFor([])).toBe('stages');
    expect(queueNameFor(['gpu', 'big'])).toBe('stages.big+gpu');
    expect(queuesServedBy([])).toEqual(['stages']);
    expect(queuesServedBy(['gpu', 'big']).sort()).toEqual(['stages', 'stages.big', 'stages.big+gpu', 'stages.gpu']);
    expect(queuesServedBy(['gpu'])).not.toContain(queueNameFor(['gpu', 'big']));
  });

  it('reads resources.labels and retries from the spec, outside the cache key', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': `name: r
stages:
  a:
    run: echo a > a.txt
    outs: [a.txt]
    retries: 2
    resources: { labels: [gpu, big, gpu] }
  b:
    run: echo b > b.txt
    outs: [b.txt]
    resources: { labels: [Bad Label] }
`,
    });
    const bad = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnostics.map((d) => d.path)).toEqual(['stages.b.resources.labels[0]']);
    await ws.cleanup();
    ws = await makeWorkspace({ 'pipeline.yaml': `name: r\nstages:\n  a:\n    run: echo a > a.txt\n    outs: [a.txt]\n    retries: 2\n    resources: { labels: [gpu, big, gpu] }\n` });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const a = loaded.spec.stages.a!;
    expect([a.retries, a.labels]).toEqual([2, ['big', 'gpu']]);
    expect(a.config).not.toHaveProperty('retries');
    expect(a.config).not.toHaveProperty('resources');
  });

  it('ships a stage definition and refuses one whose kind version differs on the worker', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': `name: r\nstages:\n  a:\n    run: echo a > a.txt\n    outs: [a.txt]\n` });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!loaded.ok) throw new Error('did not load');
    const shipped = JSON.parse(JSON.stringify(shipStage(loaded.spec.stages.a!)));
    expect(unshipStage(shipped, stageKinds).impl).toBe(stageKinds.get('shell'));
    expect(() => unshipStage({ ...shipped, version: 99 }, stageKinds)).toThrow(/has shell version \d+, the coordinator's 99/);
    const failure = decodeFailure('a', encodeFailure(new StageFailedError('a', 'command exited with code 3', { commandExitCode: 3, lastLines: ['boom'] })));
    expect([failure.message, failure.lastLines, failure.commandExitCode]).toEqual(['command exited with code 3', ['boom'], 3]);
    expect(decodeFailure('a', 'job stalled more than allowable limit').message).toBe('stage a failed on a worker: job stalled more than allowable limit');
  });
});
