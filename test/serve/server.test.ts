import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/serve/server.js';
import { createServerMetrics } from '../../src/serve/metrics.js';
import { ModelSlot } from '../../src/serve/model-slot.js';
import { servedModel, tabularMeta, textMeta, trainFixtureModel } from './fixtures.js';

let tabularDir: string;
let textDir: string;

async function serverFor(dir: string, opts: { bodyLimit?: number; maxInstances?: number } = {}): Promise<{ app: FastifyInstance; slot: ModelSlot; errors: Error[] }> {
  const slot = new ModelSlot(await servedModel(dir));
  const errors: Error[] = [];
  const app = buildServer({
    slot,
    metrics: createServerMetrics(() => slot.current),
    bodyLimit: opts.bodyLimit ?? 1 << 20,
    maxInstances: opts.maxInstances ?? 1000,
    follows: 'production',
    onInternalError: (e) => errors.push(e),
  });
  return { app, slot, errors };
}

const post = (app: FastifyInstance, payload: unknown) => app.inject({ method: 'POST', url: '/predict', payload: payload as object });
const row = (f0: number, f1: number, extra: Record<string, unknown> = {}) => ({ f0, f1, f2: 0.1, f3: -0.2, ...extra });

beforeAll(async () => {
  [tabularDir, textDir] = await Promise.all([trainFixtureModel(tabularMeta()), trainFixtureModel(textMeta())]);
});

describe('POST /predict (tabular)', () => {
  let app: FastifyInstance;
  let slot: ModelSlot;
  let errors: Error[];
  beforeAll(async () => ({ app, slot, errors } = await serverFor(tabularDir, { maxInstances: 50 })));
  afterAll(async () => {
    await app.close();
    slot.close();
  });

  it('answers one row and a batch with labels, probabilities and the version', async () => {
    const one = await post(app, { instances: [row(0.9, 0.5)] });
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body.model).toEqual({ name: 'fixture', version: 1 });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(one.headers['x-request-id']).toBe(body.id);
    expect(body.predictions).toHaveLength(1);
    const p = body.predictions[0];
    expect(Object.keys(p.probabilities)).toEqual(['c0', 'c1', 'c2']);
    expect(Object.values<number>(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.label).toBe(Object.entries<number>(p.probabilities).sort((a, b) => b[1] - a[1])[0]![0]);

    const rows = Array.from({ length: 40 }, (_, i) => row(i / 20 - 1, 1 - i / 20));
    const batch = await post(app, { instances: rows });
    expect(batch.statusCode).toBe(200);
    expect(batch.json().predictions).toEqual(slot.current.predictor.predict(rows) as unknown[]);
  });

  it('takes numbers as strings, fills an optional missing feature, ignores extra fields', async () => {
    const r = await post(app, { instances: [{ f0: '0.5', f1: '-0.25', f2: 0, extra: 'x' }] });
    expect(r.statusCode).toBe(200);
    expect(r.json().predictions[0]).toEqual((slot.current.predictor.predict([{ f0: 0.5, f1: -0.25, f2: 0, f3: 0 }]) as unknown[])[0]);
  });

  it('scores concurrent requests together and gives each its own rows back; a bad one fails alone', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => ({ instances: Array.from({ length: 1 + (i % 3) }, (_, k) => row(i / 12 - 0.5 + k / 10, k - i / 12)) }));
    const bad = { instances: [row(0, 0), { f0: 1, f1: 'abc', f2: 0 }] };
    const answers = await Promise.all([...bodies.map((b) => post(app, b)), post(app, bad)]);
    answers.slice(0, 12).forEach((a, i) => {
      expect(a.statusCode).toBe(200);
      expect(a.json().predictions).toEqual(slot.current.predictor.predict(bodies[i]!.instances) as unknown[]);
    });
    expect(answers[12]!.statusCode).toBe(400);
    expect(answers[12]!.json().message).toBe('instances[1].f1: expected a number, got "abc"');
  });

  it('answers bad input with 400 and a message naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'the body has no "instances" field; send {"instances": [{"f0": …}]}'],
      [[1, 2], 'the body must be a JSON object like {"instances": [{"f0": …}]}, got [1,2]'],
      [{ instances: { f0: 1 } }, '"instances" must be an array, got {"f0":1}'],
      [{ instances: [] }, '"instances" is empty; send at least one row'],
      [{ instances: [row(0, 0), 'text'] }, 'instances[1] must be an object of column values, got "text"'],
      [{ instances: [{ f0: 1, f2: 0 }] }, 'instances[0].f1: is missing'],
      [{ instances: [row(0, 0, { f2: 'NaN-ish' })] }, 'instances[0].f2: expected a number, got "NaN-ish"'],
      [{ instances: [row(0, 0, { f0: { nested: 1 } })] }, 'instances[0].f0: expected a number, got {"nested":1}'],
      [{ instances: [row(0, 0, { f1: true })] }, 'instances[0].f1: expected a number, got true'],
      [{ instances: [row(0, 0, { f1: '1e999' })] }, 'instances[0].f1: expected a finite number, got "1e999"'],
    ];
    for (const [payload, message] of cases) {
      const r = await post(app, payload);
      expect({ status: r.statusCode, message: r.json().message }).toEqual({ status: 400, message });
    }
    const notJson = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{"instances": [' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toBe('Bad Request');
  });

  it('refuses more rows than the limit with 413', async () => {
    const r = await post(app, { instances: Array.from({ length: 51 }, () => row(0, 0)) });
    expect(r.statusCode).toBe(413);
    expect(r.json().message).toBe('"instances" has 51 rows, more than the limit of 50 per request; split the batch');
  });

  it('GET /health names the model, version, backend and uptime; unknown routes are 404 with the route list (no POST /feedback without a prediction log)', async () => {
    const h = await app.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', model: 'fixture', version: 1, follows: 'production', backend: 'cpu', task: 'multiclass' });
    expect(typeof h.json().uptimeSeconds).toBe('number');
    const nf = await app.inject({ method: 'GET', url: '/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().message).toBe('no route GET /nope; routes: POST /predict, GET /health, GET /metrics');
    expect(errors).toEqual([]);
  });
});

describe('body size limit', () => {
  it('answers 413 to a body over the limit, and keeps serving', async () => {
    const { app, slot } = await serverFor(tabularDir, { bodyLimit: 2048 });
    const big = await post(app, { instances: Array.from({ length: 200 }, () => row(0.123456, 0.654321)) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('Payload Too Large');
    expect((await post(app, { instances: [row(0, 0)] })).statusCode).toBe(200);
    await app.close();
    slot.close();
  });
});

describe('POST /predict (text)', () => {
  it('takes bare strings and objects with the text column; a missing text is a 400 naming it', async () => {
    const { app, slot } = await serverFor(textDir);
    const r = await post(app, { instances: ['w0 w3 w4', { text: 'w5 w6' }] });
    expect(r.statusCode).toBe(200);
    const preds = r.json().predictions;
    expect(preds).toEqual(slot.current.predictor.predict([{ text: 'w0 w3 w4' }, { text: 'w5 w6' }]) as unknown[]);
    expect(Object.keys(preds[0].probabilities)).toEqual(['c0', 'c1']);
    const bad = await post(app, { instances: [{ body: 'w0' }] });
    expect({ status: bad.statusCode, message: bad.json().message }).toEqual({ status: 400, message: 'instances[0].text: is missing' });
    const wrong = await post(app, { instances: [42] });
    expect(wrong.json().message).toBe('instances[0] must be an object of column values or a string, got 42');
    await app.close();
    slot.close();
  });
});

describe('GET /metrics', () => {
  it('exposes request counts by status, latency, predictions by class and drift against the training statistics', async () => {
    const { app, slot } = await serverFor(tabularDir);
    const rows = [row(1, 0), row(1, 0), row(0.5, 0, { f3: null }), row(0.5, 0, { f3: null })];
    const ok = await post(app, { instances: rows });
    await post(app, { instances: [] });
    const labels = ok.json().predictions.map((p: { label: string }) => p.label);
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toContain('text/plain');
    const text = m.body;
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('mlpipe_http_requests_total{route="/predict",method="POST",status="200"}')).toBe(1);
    expect(value('mlpipe_http_requests_total{route="/predict",method="POST",status="400"}')).toBe(1);
    expect(value('mlpipe_http_request_duration_seconds_count{route="/predict"}')).toBe(2);
    for (const label of new Set<string>(labels)) {
      expect(value(`mlpipe_predictions_total{model="fixture",version="1",class="${label}"}`)).toBe(labels.filter((l: string) => l === label).length);
    }
    expect(value('mlpipe_predict_batch_rows_sum')).toBe(4);
    expect(value('mlpipe_model_info{model="fixture",version="1",backend="cpu"}')).toBe(1);
    expect(value('mlpipe_input_feature_recent_mean{feature="f0"}')).toBe(0.75);
    expect(value('mlpipe_input_feature_training_mean{feature="f0"}')).toBe(0);
    expect(value('mlpipe_input_feature_training_std{feature="f0"}')).toBe(0.5);
    expect(value('mlpipe_input_feature_drift_zscore{feature="f0"}')).toBe(1.5);
    expect(value('mlpipe_input_feature_missing_ratio{feature="f3"}')).toBe(0.5);
    expect(value('mlpipe_input_feature_drift_zscore{feature="f3"}')).toBeCloseTo(-0.4, 10);
    expect(text).toContain('process_cpu_seconds_total');
    await app.close();
    slot.close();
  });
});

describe('server limits (issue 14 item 8)', () => {
  it('deeply nested JSON is a 400 with a message, not a 500 and a stack; ordinary bodies still parse', async () => {
    const { app, slot, errors } = await serverFor(tabularDir);
    try {
      const nested = `{"instances":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const r = await app.inject({ method: 'POST', url: '/predict', payload: nested, headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toBe('request body nests arrays or objects deeper than 32 levels');
      expect(errors).toEqual([]);
      const proto = await app.inject({ method: 'POST', url: '/predict', payload: '{"__proto__":{"x":1},"instances":[]}', headers: { 'content-type': 'application/json' } });
      expect(proto.statusCode).toBe(400);
      expect((await post(app, { instances: [row(1, 2)] })).statusCode).toBe(200);
    } finally {
      await app.close();
      slot.close();
    }
  });

  it('with a token, /predict and /metrics need the bearer token and /health does not', async () => {
    const slot = new ModelSlot(await servedModel(tabularDir));
    const app = buildServer({ slot, metrics: createServerMetrics(() => slot.current), bodyLimit: 1 << 20, maxInstances: 10, follows: null, token: 's3cret' });
    try {
      expect((await post(app, { instances: [row(1, 2)] })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong!' } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/predict', payload: { instances: [row(1, 2)] }, headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect(app.server.maxConnections).toBe(1000);
    } finally {
      await app.close();
      slot.close();
    }
  });
});
