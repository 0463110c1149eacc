import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchAlias } from '../../src/serve/alias-watcher.js';
import { PredictBatcher } from '../../src/serve/batcher.js';
import { DriftMonitor } from '../../src/serve/drift.js';
import { createServerMetrics } from '../../src/serve/metrics.js';
import { ModelSlot, type ServedModel, type ServingPredictor } from '../../src/serve/model-slot.js';
import { startServing } from '../../src/serve/serve-model.js';
import { buildServer } from '../../src/serve/server.js';
import { parseModelRef } from '../../src/app/models/model-ref.js';
import { modelDigest } from '../../src/app/models/verify-model.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { ModelMeta } from '../../src/ml/model-io.js';
import { manualPredictor, tabularMeta, trainFixtureModel } from './fixtures.js';

const meta = { task: 'multiclass', dataset: tabularMeta(), labels: ['c0', 'c1', 'c2'] } as unknown as ModelMeta;
const tick = () => new Promise<void>((r) => setImmediate(r));

function fakeModel(version: number, predict?: ServingPredictor['predict']): ServedModel & { predictor: { disposed: boolean; calls: number[] } } {
  const predictor = {
    meta,
    backend: 'fake',
    disposed: false,
    calls: [] as number[],
    predict(rows: Record<string, unknown>[]) {
      predictor.calls.push(rows.length);
      return predict ? predict(rows) : rows.map((r) => ({ label: String(r.f0) }));
    },
    dispose() {
      predictor.disposed = true;
    },
  };
  return { name: 'm', version, dir: '/nowhere', predictor, drift: new DriftMonitor(meta.dataset), loadedAt: 0 };
}

describe('ModelSlot', () => {
  it('swaps atomically and disposes the old model only after its last lease', async () => {
    const v1 = fakeModel(1);
    const v2 = fakeModel(2);
    const slot = new ModelSlot(v1);
    const held = slot.acquire();
    expect(slot.swap(v2)).toBe(v1);
    expect(slot.current).toBe(v2);
    expect(held).toBe(v1);
    expect(v1.predictor.disposed).toBe(false);
    slot.release(held);
    expect(v1.predictor.disposed).toBe(true);
    slot.close();
    expect(v2.predictor.disposed).toBe(true);
    const v3 = fakeModel(3);
    slot.swap(v3);
    expect(v3.predictor.disposed).toBe(true);
  });
});

describe('PredictBatcher', () => {
  it('scores the requests of one event-loop turn in one call and hands each its own rows', async () => {
    const model = fakeModel(1);
    const slot = new ModelSlot(model);
    const calls: number[] = [];
    const batcher = new PredictBatcher(slot, { onCall: (n) => calls.push(n) });
    const results = await Promise.all([1, 2, 3].map((k) => batcher.predict(Array.from({ length: k }, (_, i) => ({ f0: `${k}.${i}` })))));
    expect(model.predictor.calls).toEqual([6]);
    expect(calls).toEqual([6]);
    expect(results.map((r) => r.predictions.map((p) => p.label))).toEqual([['1.0'], ['2.0', '2.1'], ['3.0', '3.1', '3.2']]);
    expect(results.every((r) => r.model === model)).toBe(true);
  });

  it('flushes at maxRows, and when the combined call fails scores each request alone so only the bad one fails', async () => {
    const model = fakeModel(1, (rows) => {
      if (rows.some((r) => r.f0 === 'bad')) throw new Error('bad row');
      return rows.map((r) => ({ label: String(r.f0) }));
    });
    const batcher = new PredictBatcher(new ModelSlot(model), { maxRows: 3 });
    const settled = await Promise.allSettled([batcher.predict([{ f0: 'a' }, { f0: 'b' }]), batcher.predict([{ f0: 'bad' }]), batcher.predict([{ f0: 'c' }])]);
    expect(model.predictor.calls).toEqual([3, 2, 1, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[2] as PromiseFulfilledResult<{ predictions: { label: string }[] }>).value.predictions).toEqual([{ label: 'c' }]);
  });
});

describe('watchAlias', () => {
  it('loads a moved alias, skips a version that failed until the alias moves again, and stop() waits for a load', async () => {
    let target: number | undefined = 1;
    let current = 1;
    const loads: number[] = [];
    const errors: string[] = [];
    let finishLoad: () => void = () => {};
    const watcher = watchAlias({
      intervalMs: 1e9,
      lookup: async () => target,
      current: () => current,
      load: async (v) => {
        loads.push(v);
        if (v === 3) throw new Error('broken files');
        await new Promise<void>((r) => (finishLoad = r));
        current = v;
      },
      onError: (e, v) => errors.push(`v${v}: ${e.message}`),
    });
    await watcher.check();
    expect(loads).toEqual([]);
    target = 2;
    const pending = watcher.check();
    expect(watcher.check()).toBe(pending);
    await tick();
    finishLoad();
    await pending;
    expect(current).toBe(2);
    target = 3;
    await watcher.check();
    await watcher.check();
    expect(loads).toEqual([2, 3]);
    expect(errors).toEqual(['v3: broken files']);
    target = undefined;
    await watcher.check();
    target = 4;
    const loading = watcher.check();
    let stopped = false;
    const stopping = watcher.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    finishLoad();
    await Promise.all([loading, stopping]);
    expect(current).toBe(4);
  });
});

describe('draining', () => {
  it('closing lets an in-flight request finish with 200, refuses new connections, then resolves', async () => {
    const predictor = manualPredictor(meta);
    const model: ServedModel = { name: 'm', version: 1, dir: '/nowhere', predictor, drift: new DriftMonitor(meta.dataset), loadedAt: 0 };
    const slot = new ModelSlot(model);
    const app = buildServer({ slot, metrics: createServerMetrics(() => slot.current), bodyLimit: 1 << 20, maxInstances: 10, follows: null });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const body = JSON.stringify({ instances: [{ f0: 1, f1: 2, f2: 3 }] });
    const inFlight = fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await predictor.called;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await tick();
    await tick();
    expect(closed).toBe(false);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    predictor.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect((await answer.json()).predictions).toHaveLength(1);
    await closing;
    expect(closed).toBe(true);
    slot.close();
    expect(predictor.disposed).toBe(true);
  });
});

describe('startServing', () => {
  let runsDir: string;
  let dirs: string[];
  beforeAll(async () => {
    runsDir = await mkdtemp(join(tmpdir(), 'mlpipe-serve-'));
    dirs = await Promise.all([trainFixtureModel(tabularMeta(), 1), trainFixtureModel(tabularMeta(), 2)]);
    const broken = join(runsDir, 'broken');
    await mkdir(broken);
    await import('node:fs/promises').then((fs) => fs.writeFile(join(broken, 'model.json'), '{not json'));
    const tracker = await openTracker(runsDir);
    // Registered with their real digests: serving verifies a version's files before it loads them.
    for (const [i, path] of dirs.entries()) await tracker.registerModel({ name: 'fx', runId: `r-${i}`, stage: 'deploy', artifactHash: await modelDigest(runsDir, path), path, metrics: {} });
    await tracker.registerModel({ name: 'fx', runId: 'r-x', stage: 'deploy', artifactHash: await modelDigest(runsDir, broken), path: broken, metrics: {} });
    await tracker.setAlias('fx', 'production', 1);
    await tracker.close();
  });
  afterAll(async () => {
    await rm(runsDir, { recursive: true, force: true });
  });

  it('follows an alias: swaps to a promoted version, keeps serving when one fails to load, and drains on close', async () => {
    const log: string[] = [];
    const options = {
      runsDir,
      ref: parseModelRef('fx@production'),
      host: '127.0.0.1',
      port: 0,
      backend: 'cpu' as const,
      watchIntervalMs: 0,
      bodyLimit: 1 << 20,
      maxInstances: 100,
      predictionLog: { retentionMs: 3_600_000 },
      log: (l: string) => log.push(l),
    };
    const server = await startServing(options);
    const ask = async () => {
      const r = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ f0: 0.3, f1: 0.1, f2: 0, f3: 0 }] }) });
      return { status: r.status, version: (await r.json()).model?.version };
    };
    expect(await ask()).toEqual({ status: 200, version: 1 });
    const port = Number(new URL(server.url).port);
    await expect(startServing({ ...options, port })).rejects.toMatchObject({ name: 'ListenError', exitCode: 2, message: `cannot listen on 127.0.0.1:${port}: the port is already in use` });
    const first = server.current();
    const tracker = await openTracker(runsDir);
    await tracker.setAlias('fx', 'production', 2);
    await server.checkAlias();
    expect(server.current().version).toBe(2);
    expect(() => first.predictor.predict([{ f0: 0, f1: 0, f2: 0, f3: 0 }])).toThrow(/disposed/);
    expect(await ask()).toEqual({ status: 200, version: 2 });
    await tracker.setAlias('fx', 'production', 3);
    await server.checkAlias();
    expect(server.current().version).toBe(2);
    expect(await ask()).toEqual({ status: 200, version: 2 });
    await tracker.close();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^mlpipe_model_swaps_total 1$/m);
    expect(metrics).toMatch(/^mlpipe_model_reload_failures_total 1$/m);
    const summary = await server.close();
    expect(summary).toEqual({ schemaVersion: 1, model: 'fx', follows: 'production', url: server.url, versions: [1, 2], predictionLog: { path: join(runsDir, 'monitor', 'fx.sqlite'), rows: 3, dropped: 0 } });
    expect(log[0]).toBe('fx@production moved: now serving v2 (was v1)');
    expect(log[1]).toMatch(/^fx@production → v3: keeping v2: fx v3 is registered, but its files in .*broken are not a model mlpipe can load/);
  });
});
