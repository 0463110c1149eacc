import { randomUUID, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { DataError } from '../ml/errors.js';
import type { Prediction } from '../ml/predict.js';
import { badInstance, readInstances } from './instances.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';
import { PredictBatcher, type BatchResult } from './batcher.js';
import { matchFeedback, readFeedback } from './feedback.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelSlot } from './model-slot.js';
import type { PredictionLogger } from './prediction-logger.js';

/** Options of {@link buildServer}. */
export interface ServerOptions {
  slot: ModelSlot;
  metrics: ServerMetrics;
  /** Largest request body in bytes; larger ones get 413. */
  bodyLimit: number;
  /** Most rows in one request; more get 413. */
  maxInstances: number;
  /** What the server follows (`production`, `latest`), or null for a fixed version. */
  follows: string | null;
  /** Milliseconds a request may take before its connection is closed. Default 30000. */
  requestTimeoutMs?: number;
  /** When set, `POST /predict` and `GET /metrics` need `Authorization: Bearer TOKEN` (401 otherwise); `/health` stays open. */
  token?: string;
  /** Most connections open at once; more are refused by the socket layer. Default 1000. */
  maxConnections?: number;
  /** Called when a request arrives and when it is answered, one line each (for --verbose). */
  log?: (line: string) => void;
  /** Where every answered prediction is logged and `POST /feedback` attaches true labels; without it there is no /feedback route. */
  predictionLog?: PredictionLogger;
  /** Called with errors that became a 500 answer. */
  onInternalError?: (err: Error) => void;
}

/** `POST /predict` answer. */
export interface PredictResponse {
  /** The request id (also the `x-request-id` header): `POST /feedback` takes it (`ID/ROW` for row ROW of a batch). */
  id: string;
  model: { name: string; version: number };
  predictions: Prediction[];
}

/** `GET /health` answer. */
export interface HealthResponse {
  status: 'ok';
  model: string;
  version: number;
  follows: string | null;
  backend: string;
  task: string;
  uptimeSeconds: number;
  loadedAt: string;
}

/** `POST /feedback` answer. */
export interface FeedbackResponse {
  updated: number;
}

/** The routes a server has, as its 404 message lists them. */
export function serverRoutes(logging: boolean): string[] {
  return ['POST /predict', ...(logging ? ['POST /feedback'] : []), 'GET /health', 'GET /metrics'];
}

/**
 * The prediction server: `POST /predict`, `POST /feedback` (with a prediction log), `GET /health`,
 * `GET /metrics`. Every answer is JSON (or
 * Prometheus text); a bad request is a 400 or 413 with a message, an unexpected failure a 500 —
 * never a crash. Not listening yet: call `listen`.
 */
export function buildServer(o: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: o.requestTimeoutMs ?? 30_000,
    connectionTimeout: o.requestTimeoutMs ?? 30_000,
    http: { headersTimeout: Math.min(o.requestTimeoutMs ?? 30_000, 10_000), connectionsCheckingInterval: 1_000 },
  });
  app.server.maxConnections = o.maxConnections ?? 1000;
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (!jsonDepthExceeds(body as string)) return parseJson(req, body as string, done);
    done(Object.assign(new Error(`request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }), undefined);
  });
  if (o.token !== undefined) {
    const expected = Buffer.from(`Bearer ${o.token}`);
    app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/health')) return;
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
      void reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: STATUS_CODES[401], message: 'missing or wrong bearer token: send Authorization: Bearer TOKEN' });
      return reply;
    });
  }
  const startedAt = Date.now();
  let closing = false;

  app.addHook('preClose', async () => {
    closing = true;
  });
  // A keep-alive connection whose request was in flight when closing began would otherwise stay open and hold the drain.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });

  const log = o.log;
  if (log) app.addHook('onRequest', async (req) => log(`→ ${req.method} ${req.url}`));
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    o.metrics.observeRequest(route, req.method, reply.statusCode, reply.elapsedTime / 1000);
    log?.(`← ${req.method} ${req.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`);
  });

  app.setErrorHandler((err: FastifyError | Error, _req, reply) => {
    const given = (err as FastifyError).statusCode;
    const status = given !== undefined && given >= 400 && given < 500 ? given : 500;
    if (status === 500) o.onInternalError?.(err);
    const message = status === 500 ? `internal error: ${err.message}` : err.message;
    void reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message });
  });

  const routes = serverRoutes(o.predictionLog !== undefined);
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ statusCode: 404, error: STATUS_CODES[404], message: `no route ${req.method} ${req.url}; routes: ${routes.join(', ')}` });
  });

  const batcher = new PredictBatcher(o.slot, { onCall: (rows) => o.metrics.observeModelCall(rows) });
  app.post('/predict', async (req, reply): Promise<PredictResponse> => {
    const rows = readInstances(req.body, o.slot.current.predictor.meta.dataset, o.maxInstances);
    let result: BatchResult;
    try {
      result = await batcher.predict(rows);
    } catch (err) {
      if (err instanceof DataError) throw badInstance(err);
      throw err;
    }
    const { model, predictions } = result;
    o.metrics.observePredictions(model, predictions);
    model.drift.observe(rows);
    const id = randomUUID();
    o.predictionLog?.record(id, model, rows, predictions);
    void reply.header('x-request-id', id);
    return { id, model: { name: model.name, version: model.version }, predictions };
  });

  const predictionLog = o.predictionLog;
  if (predictionLog) {
    app.post('/feedback', async (req): Promise<FeedbackResponse> => {
      const items = readFeedback(req.body, o.slot.current.predictor.meta, o.maxInstances);
      const labels = matchFeedback(items, await predictionLog.resolve(items.map((i) => i.id)));
      await predictionLog.setLabels(labels);
      return { updated: labels.length };
    });
  }

  app.get('/health', async (): Promise<HealthResponse> => {
    const m = o.slot.current;
    return {
      status: 'ok',
      model: m.name,
      version: m.version,
      follows: o.follows,
      backend: m.predictor.backend,
      task: m.predictor.meta.task,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      loadedAt: new Date(m.loadedAt).toISOString(),
    };
  });

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', o.metrics.registry.contentType);
    return o.metrics.registry.metrics();
  });

  return app;
}
