import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import type { StageManifest } from '../../src/core/cache/manifest.js';
import { decodeManifest, encodeManifest } from '../../src/core/cache/manifest.js';
import { IMPORTED_TAG, importRunOf } from '../../src/core/run/imported-runs.js';
import { TrackerRecorder } from '../../src/core/run/tracker-recorder.js';
import type { StageSummary } from '../../src/core/run/events.js';
import { runDetails } from '../../src/app/compare/run-summaries.js';
import { renderRunDetails } from '../../src/render/runs.js';

// Issue 11 item 5: a stage restored from a teammate's entry shows who made it, even when the local
// tracker never saw that run: `runs show <their run id>` answers from the manifest's provenance.

let dir: string;
let tracker: Tracker;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-import-'));
  tracker = await openTracker(dir);
});
afterEach(async () => {
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

const manifest = (stage: string, over: Partial<StageManifest> = {}): StageManifest => ({
  schemaVersion: 1,
  key: `${stage[0]}`.repeat(64),
  stage,
  kind: 'shell',
  runId: 'r-a1a1a1a1a1a1',
  createdAt: Date.UTC(2026, 11, 2, 14, 3),
  outputs: {},
  metrics: { accuracy: 0.97 },
  provenance: { pipeline: 'iris', host: 'host-a', user: 'ana', gitCommit: 'c0ffee1234567', startedAt: Date.UTC(2026, 11, 2, 14, 0) },
  ...over,
});

describe('importRunOf', () => {
  it('makes a run known from its entries: provenance, each restored stage once, its final metrics', async () => {
    await importRunOf(tracker, manifest('prep', { metrics: {} }), { name: 'prep', kind: 'shell' }, 'iris');
    await importRunOf(tracker, manifest('train'), { name: 'train', kind: 'train', material: { params: { lr: 0.01 } } as never }, 'iris');
    await importRunOf(tracker, manifest('train'), { name: 'train', kind: 'train' }, 'iris');
    const run = await tracker.getRun('r-a1a1a1a1a1a1');
    expect(run).toMatchObject({ pipeline: 'iris', status: 'completed', host: 'host-a', gitCommit: 'c0ffee1234567', startedAt: Date.UTC(2026, 11, 2, 14, 0), params: { lr: 0.01 }, tags: { [IMPORTED_TAG]: 'cache', 'mlpipe.user': 'ana' } });
    const details = await runDetails(tracker, 'r-a1a1');
    expect(details.stages.map((s) => [s.stage, s.status, s.cachedFrom ?? null])).toEqual([
      ['prep', 'completed', null],
      ['train', 'completed', null],
    ]);
    expect(details.metrics).toEqual({ 'train.accuracy': 0.97 });
    const text = renderRunDetails(details);
    expect(text).toContain('source     ran elsewhere (by ana on host-a); known here from the cache entries this workspace restored');
    expect(text).toContain('git commit c0ffee1234567');
    expect(text).not.toContain('spec ');
    expect(text).not.toContain('(pid 0)');
  });

  it('leaves a run the tracker recorded itself alone (a shared tracker already knows it)', async () => {
    await tracker.createRun({ id: 'r-a1a1a1a1a1a1', pipeline: 'iris', specPath: '/w/pipeline.yaml', specHash: 'ab', status: 'completed', startedAt: 1, endedAt: 2, params: {}, host: 'host-a', pid: 42 });
    expect(await importRunOf(tracker, manifest('train'), { name: 'train', kind: 'train' }, 'iris')).toBe(true);
    expect(await tracker.getStageRuns('r-a1a1a1a1a1a1')).toEqual([]);
    expect((await tracker.getRun('r-a1a1a1a1a1a1'))?.tags).toEqual({});
  });

  it('imports an entry of an older version without provenance, and a manifest with a malformed provenance keeps its entry', async () => {
    const { provenance: _, ...old } = manifest('train');
    await importRunOf(tracker, old, { name: 'train', kind: 'train' }, 'iris');
    expect(await tracker.getRun('r-a1a1a1a1a1a1')).toMatchObject({ pipeline: 'iris', host: 'unknown', startedAt: old.createdAt });
    const text = encodeManifest(manifest('train')).replace('"user":"ana"', '"user":7');
    const decoded = decodeManifest(text, 't'.repeat(64));
    expect(decoded.ok && decoded.manifest.provenance).toBeUndefined();
    expect(decoded.ok && decoded.manifest.runId).toBe('r-a1a1a1a1a1a1');
  });
});

describe('TrackerRecorder, stages restored from other runs', () => {
  const restored = (stage: string, runId: string): StageSummary => ({ name: stage, kind: 'shell', status: 'completed', cached: true, cachedFrom: runId, reason: 'restored', reasons: [], durationMs: 1, metrics: {} });
  const lookups = (t: Tracker): string[] => {
    const asked: string[] = [];
    const getRun = t.getRun.bind(t);
    t.getRun = (id) => (asked.push(id), getRun(id));
    return asked;
  };

  it('looks a run this tracker recorded up once for all the stages restored from it; an imported run gets each stage', async () => {
    await tracker.createRun({ id: 'r-0000000000aa', pipeline: 'iris', specPath: '/w/pipeline.yaml', specHash: 'ab', status: 'completed', startedAt: 1, endedAt: 2, params: {}, host: 'host-a', pid: 42 });
    const asked = lookups(tracker);
    const recorder = await TrackerRecorder.start(tracker, { id: 'r-0000000000bb', pipeline: 'iris', specPath: '/w/pipeline.yaml', specHash: 'ab', status: 'running', startedAt: 3, params: {}, host: 'host-a', pid: 43 }, dir);
    for (const stage of ['prep', 'train', 'evaluate']) {
      recorder.onEvent({ type: 'stage-finished', stage, summary: restored(stage, 'r-0000000000aa'), record: { manifest: manifest(stage, { runId: 'r-0000000000aa' }) } });
    }
    for (const stage of ['prep', 'train']) {
      recorder.onEvent({ type: 'stage-finished', stage: `${stage}2`, summary: restored(`${stage}2`, 'r-a1a1a1a1a1a1'), record: { manifest: manifest(`${stage}2`) } });
    }
    await recorder.finish({ status: 'completed', endedAt: 4 });
    expect(asked.filter((id) => id === 'r-0000000000aa')).toEqual(['r-0000000000aa']);
    expect(await tracker.getStageRuns('r-0000000000aa')).toEqual([]);
    expect((await tracker.getStageRuns('r-a1a1a1a1a1a1')).map((s) => s.stage).sort()).toEqual(['prep2', 'train2']);
    expect((await tracker.getStageRuns('r-0000000000bb')).map((s) => [s.stage, s.cachedFrom]).sort()).toEqual([
      ['evaluate', 'r-0000000000aa'],
      ['prep', 'r-0000000000aa'],
      ['prep2', 'r-a1a1a1a1a1a1'],
      ['train', 'r-0000000000aa'],
      ['train2', 'r-a1a1a1a1a1a1'],
    ]);
  });
});
