import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { PredictionLog } from '../../src/core/monitor/prediction-log.js';
import { buildServer } from '../../src/serve/server.js';
import { createServerMetrics } from '../../src/serve/metrics.js';
import { ModelSlot } from '../../src/serve/model-slot.js';
import { PredictionLogger } from '../../src/serve/prediction-logger.js';
import { servedModel, tabularMeta, trainFixtureModel } from './fixtures.js';

const row = (f0: number, f1: number) => ({ f0, f1, f2: 0.1, f3: -0.2 });

let dir: string;
let app: FastifyInstance;
let slot: ModelSlot;
let logger: PredictionLogger;
const logPath = () => join(dir, 'monitor', 'fixture.sqlite');

/** Every logged row, read through a second connection as `mlpipe monitor` does. */
function logged() {
  const log = PredictionLog.openExisting(logPath())!;
  try {
    return [...log.read('fixture', 0)];
  } finally {
    log.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlpipe-feedback-'));
  slot = new ModelSlot(await servedModel(await trainFixtureModel(tabularMeta())));
  logger = new PredictionLogger(logPath(), { retentionMs: 86_400_000, flushMs: 10 });
  app = buildServer({ slot, metrics: createServerMetrics(() => slot.current, () => logger.counts), bodyLimit: 1 << 20, maxInstances: 50, follows: null, predictionLog: logger });
});
afterAll(async () => {
  await app?.close();
  await logger?.close();
  slot?.close();
  await rm(dir, { recursive: true, force: true });
});

const predict = (instances: unknown[]) => app.inject({ method: 'POST', url: '/predict', payload: { instances } });
const feedback = (payload: unknown) => app.inject({ method: 'POST', url: '/feedback', payload: payload as object });

describe('the prediction log and POST /feedback', () => {
  it('logs each answered row with the request id the answer and its x-request-id header carry', async () => {
    const one = await predict([row(0.9, 0.5)]);
    expect(one.statusCode).toBe(200);
    const id = one.json().id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(one.headers['x-request-id']).toBe(id);
    const batch = await predict([row(-0.5, 0.2), row(0.1, -0.9)]);
    const bid = batch.json().id;
    expect(bid).not.toBe(id);
    await logger.flush();
    const rows = logged();
    expect(rows.map((r) => r.id)).toEqual([`${id}/0`, `${bid}/0`, `${bid}/1`]);
    expect(rows[0]).toMatchObject({ requestId: id, row: 0, model: 'fixture', version: 1, input: row(0.9, 0.5), prediction: one.json().predictions[0] });
    expect(rows[2]!.prediction).toEqual(batch.json().predictions[1]);
    expect(rows.every((r) => r.label === undefined)).toBe(true);
  });

  it('attaches labels by request id (one-row request) or ID/ROW, singly or in a batch; a later label replaces an earlier one', async () => {
    const a = (await predict([row(0.3, 0.3)])).json().id;
    const b = (await predict([row(0.4, 0.1), row(-0.4, 0.6)])).json().id;
    // no flush: feedback on an answer still queued in memory finds it
    const single = await feedback({ id: a, label: 'c1' });
    expect({ status: single.statusCode, body: single.json() }).toEqual({ status: 200, body: { updated: 1 } });
    const many = await feedback([{ id: `${b}/0`, label: 'c2' }, { id: `${b}/1`, label: 'c0' }]);
    expect(many.json()).toEqual({ updated: 2 });
    expect((await feedback({ id: a, label: 'c2' })).statusCode).toBe(200);
    const labels = Object.fromEntries(logged().filter((r) => r.label !== undefined).map((r) => [r.id, r.label]));
    expect(labels).toEqual({ [`${a}/0`]: 'c2', [`${b}/0`]: 'c2', [`${b}/1`]: 'c0' });
  });

  it('answers an unknown id with 404 and updates nothing of the batch', async () => {
    const a = (await predict([row(0.2, 0.2)])).json().id;
    const r = await feedback([{ id: a, label: 'c1' }, { id: 'no-such-id', label: 'c0' }]);
    expect(r.statusCode).toBe(404);
    expect(r.json().message).toBe(
      'no logged prediction has the id no-such-id; send the "id" of a POST /predict answer (ID for a one-row request, ID/ROW for a row of a batch); rows older than --log-retention are deleted; nothing was updated',
    );
    expect(logged().find((x) => x.requestId === a)!.label).toBeUndefined();
  });

  it('answers a bad body with 400 naming the field', async () => {
    const b = (await predict([row(0.1, 0.1), row(0.2, 0.2), row(0.3, 0.3)])).json().id;
    const cases: [unknown, string][] = [
      [{ label: 'c0' }, 'body.id: expected the id of a POST /predict answer (a string), got undefined'],
      [{ id: 7, label: 'c0' }, 'body.id: expected the id of a POST /predict answer (a string), got 7'],
      [{ id: b }, 'body.label: is missing'],
      [{ id: `${b}/0`, label: 'dog' }, 'body.label: expected one of the classes c0, c1, c2, got "dog"'],
      [[], 'the body is an empty array; send {"id": "…", "label": …} or [{"id": "…", "label": …}, …]'],
      [[{ id: `${b}/0`, label: 'c0' }, 'x'], '[1] must be an object like {"id": "…", "label": …}, got "x"'],
      [[{ id: `${b}/0`, label: 'c0' }, { id: `${b}/0`, label: 'c1' }], `[1].id: ${b}/0 appears twice`],
      [{ id: b, label: 'c0' }, `request ${b} scored 3 rows: send one label per row, with the ids ${b}/0 … ${b}/2`],
    ];
    for (const [payload, message] of cases) {
      const r = await feedback(payload);
      expect({ status: r.statusCode, message: r.json().message }).toEqual({ status: 400, message });
    }
  });

  it('counts the rows written to the log in GET /metrics', async () => {
    await logger.flush();
    const metrics = await (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`^mlpipe_prediction_log_rows_written ${logged().length}$`, 'm'));
    expect(metrics).toMatch(/^mlpipe_prediction_log_rows_dropped 0$/m);
  });

  it('lists POST /feedback among the routes of a server that logs', async () => {
    const nf = await app.inject({ method: 'GET', url: '/feedback' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().message).toBe('no route GET /feedback; routes: POST /predict, POST /feedback, GET /health, GET /metrics');
  });
});

describe('PredictionLogger retention', () => {
  it('deletes rows older than the retention when it opens the log', async () => {
    const path = join(dir, 'monitor', 'retention.sqlite');
    let now = Date.UTC(2026, 0, 1);
    const first = new PredictionLogger(path, { retentionMs: 3_600_000, now: () => now });
    first.record('old', { name: 'm', version: 1 }, [{ x: 1 }], [{ label: 'a' }]);
    now += 30 * 60_000;
    first.record('recent', { name: 'm', version: 1 }, [{ x: 2 }], [{ label: 'b' }]);
    await first.close();
    now += 45 * 60_000; // 'old' is 75 minutes old now, 'recent' 45
    await new PredictionLogger(path, { retentionMs: 3_600_000, now: () => now }).close();
    const log = PredictionLog.openExisting(path)!;
    expect([...log.read('m', 0)].map((r) => r.requestId)).toEqual(['recent']);
    log.close();
  });

  it('writes everything recorded before close, however long the flush interval, and counts it', async () => {
    const path = join(dir, 'monitor', 'shutdown.sqlite');
    const logger = new PredictionLogger(path, { retentionMs: 3_600_000, flushMs: 3_600_000 });
    for (let i = 0; i < 500; i++) logger.record(`r${i}`, { name: 'm', version: 1 }, [{ x: i }, { x: -i }], [{ label: 'a' }, { label: 'b' }]);
    await logger.close();
    expect(logger.counts).toEqual({ dropped: 0, written: 1000 });
    logger.record('late', { name: 'm', version: 1 }, [{ x: 0 }], [{ label: 'a' }]);
    const log = PredictionLog.openExisting(path)!;
    const rows = [...log.read('m', 0)];
    log.close();
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(500);
    expect(rows.find((r) => r.id === 'r499/1')).toMatchObject({ input: { x: -499 }, prediction: { label: 'b' } });
  });

  it('drops new rows past maxQueued while the writer has not caught up, and counts them', async () => {
    const path = join(dir, 'monitor', 'full.sqlite');
    const logger = new PredictionLogger(path, { retentionMs: 3_600_000, flushMs: 3_600_000, maxQueued: 3 });
    logger.record('a', { name: 'm', version: 1 }, [{ x: 1 }, { x: 2 }], [{ label: 'a' }, { label: 'a' }]);
    const written = logger.flush();
    logger.record('b', { name: 'm', version: 1 }, [{ x: 3 }, { x: 4 }], [{ label: 'a' }, { label: 'a' }]);
    await written;
    logger.record('c', { name: 'm', version: 1 }, [{ x: 5 }], [{ label: 'a' }]);
    await logger.close();
    expect(logger.counts).toEqual({ dropped: 2, written: 3 });
  });
});
