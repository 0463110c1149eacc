import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalStore } from '../../src/core/store/local-store.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import type { RunDeletion, RunPageResponse, RunsResponse } from '../../src/serve/ui/api-types.js';
import { buildUiServer } from '../../src/serve/ui/ui-server.js';

// The dashboard API over a tracker written directly: names, tags, notes, soft-deleted runs, and a
// template stage whose item has a dot (train@lr0.1), whose metric names have a dot after the `@`.
let dir: string;
let tracker: Tracker;
let app: FastifyInstance;
let readOnly: FastifyInstance;
const internal: Error[] = [];
const ids = ['r-aaaa00000001', 'r-aaaa00000002', 'r-aaaa00000003', 'r-aaaa00000004'];
const accuracy = [0.7, 0.9, 0.8, 0.6];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-ui-meta-'));
  tracker = await openTracker(dir);
  for (const [i, id] of ids.entries()) {
    await tracker.createRun({ id, pipeline: 'grid', specPath: join(dir, 'pipeline.yaml'), specHash: 'h', status: 'completed', startedAt: 1_000 + i, endedAt: 2_000 + i, params: { i }, host: 'h', pid: 1 });
    await tracker.logMetrics([
      { runId: id, stage: 'train@lr0.1', key: 'accuracy', step: null, value: accuracy[i]!, time: 2_000 },
      { runId: id, stage: 'train@lr0.1', key: 'confusion_matrix.0.1', step: null, value: 3, time: 2_000 },
    ]);
  }
  await tracker.updateRun(ids[1]!, { name: 'baseline', note: 'the one to beat\nsecond line' });
  await tracker.setRunTags(ids[1]!, { owner: 'ana', stage: 'prod' });
  await tracker.updateRun(ids[3]!, { deletedAt: 5_000 });
  const common = { tracker, store: openLocalStore(dir), runsDir: dir, assets: new Map(), pollMs: 100, onInternalError: (e: Error) => internal.push(e) };
  app = buildUiServer({ ...common, readOnly: false });
  readOnly = buildUiServer({ ...common, readOnly: true });
});

afterAll(async () => {
  await app?.close();
  await readOnly?.close();
  await tracker?.close();
  rmSync(dir, { recursive: true, force: true });
  expect(internal).toEqual([]);
});

const get = async <T>(url: string) => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as T };
};
const post = async <T>(url: string, server = app) => {
  const r = await server.inject({ method: 'POST', url, payload: {} });
  return { status: r.statusCode, body: r.json() as T };
};

describe('runs table rows: names, tags, notes and deleted runs', () => {
  it('carries name, tags and note, and leaves deleted runs out while counting them', async () => {
    const { status, body } = await get<RunsResponse>('/api/runs');
    expect(status).toBe(200);
    expect(body.runs.map((r) => r.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(body).toMatchObject({ total: 3, deleted: 1, matching: 3 });
    expect(body.runs[1]).toMatchObject({ name: 'baseline', tags: { owner: 'ana', stage: 'prod' }, note: 'the one to beat\nsecond line', deletedAt: null });
    expect(body.columns.tags).toEqual(['owner', 'stage']);
  });

  it('lists deleted runs with deleted=include or alone with deleted=only; other values are a 400', async () => {
    const all = await get<RunsResponse>('/api/runs?deleted=include');
    expect(all.body.runs.map((r) => r.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(all.body.runs[0]!.deletedAt).toBe(5_000);
    const only = await get<RunsResponse>('/api/runs?deleted=only');
    expect(only.body.runs.map((r) => r.id)).toEqual([ids[3]]);
    const bad = await get<{ message: string }>('/api/runs?deleted=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('deleted must be equal to one of the allowed values');
  });

  it('searches notes', async () => {
    const { body } = await get<RunsResponse>('/api/runs?search=beat');
    expect(body.runs.map((r) => r.id)).toEqual([ids[1]]);
  });

  it('shows the note, tags and deleted state on the run page', async () => {
    const { body } = await get<RunPageResponse>(`/api/runs/${ids[3]}`);
    expect(body.run).toMatchObject({ deletedAt: 5_000, name: null });
    expect(body.readOnly).toBe(false);
    const named = await get<RunPageResponse>('/api/runs/r-aaaa00000002');
    expect(named.body.run).toMatchObject({ name: 'baseline', note: 'the one to beat\nsecond line', tags: { owner: 'ana' } });
  });
});

describe('a metric of a template stage whose item has a dot (train@lr0.1.accuracy)', () => {
  it('is one column, without its confusion-matrix cells', async () => {
    const { body } = await get<RunsResponse>('/api/runs');
    expect(body.columns.metrics).toEqual(['train@lr0.1.accuracy']);
    expect(body.runs[0]!.metrics).toEqual({ 'train@lr0.1.accuracy': 0.8 });
  });

  it('sorts the table (the column key splits at the stage, not at the item dot)', async () => {
    const { status, body } = await get<RunsResponse>(`/api/runs?sort=${encodeURIComponent('metrics.train@lr0.1.accuracy')}&dir=desc`);
    expect(status).toBe(200);
    expect(body.runs.map((r) => r.metrics['train@lr0.1.accuracy'])).toEqual([0.9, 0.8, 0.7]);
  });
});

describe('delete and restore from the dashboard', () => {
  it('deletes and restores through the same function as mlpipe runs delete/restore', async () => {
    const del = await post<RunDeletion>(`/api/runs/${ids[0]}/delete`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ schemaVersion: 1, changed: [{ id: ids[0], pipeline: 'grid', name: null }], unchanged: [] });
    expect((await tracker.getRun(ids[0]!))!.deletedAt).toEqual(expect.any(Number));
    expect((await get<RunsResponse>('/api/runs')).body).toMatchObject({ total: 2, deleted: 2 });
    const again = await post<RunDeletion>(`/api/runs/${ids[0]}/delete`);
    expect(again.body.unchanged).toEqual([ids[0]]);
    const back = await post<RunDeletion>(`/api/runs/${ids[0]}/restore`);
    expect(back.body.changed.map((c) => c.id)).toEqual([ids[0]]);
    expect((await tracker.getRun(ids[0]!))!.deletedAt).toBeNull();
  });

  it('refuses a running run (400) and an unknown one (404)', async () => {
    await tracker.updateRun(ids[2]!, { status: 'running' });
    const running = await post<{ message: string }>(`/api/runs/${ids[2]}/delete`);
    await tracker.updateRun(ids[2]!, { status: 'completed' });
    expect(running.status).toBe(400);
    expect(running.body.message).toContain('is still running');
    expect((await post(`/api/runs/r-ffff/delete`)).status).toBe(404);
  });

  it('is off with --read-only (403) and changes nothing', async () => {
    const r = await post<{ message: string }>(`/api/runs/${ids[1]}/delete`, readOnly);
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('the dashboard was started with --read-only: runs cannot be deleted or restored here');
    expect((await tracker.getRun(ids[1]!))!.deletedAt).toBeNull();
    expect((await readOnly.inject({ method: 'GET', url: `/api/runs/${ids[1]}` })).json().readOnly).toBe(true);
  });
});
