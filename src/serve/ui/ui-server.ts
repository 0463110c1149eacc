import { createReadStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { AmbiguousRunError, UnknownRunError } from '../../app/compare/resolve-run.js';
import { ModelNotFoundError } from '../../app/models/resolve-model.js';
import { cacheArtifactReader } from '../../app/report/confusion-matrix.js';
import type { ObjectStore } from '../../core/store/types.js';
import type { Tracker } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';
import { setRunsDeleted } from '../../app/runs/run-meta.js';
import type { ApiError, InfoResponse, RunPageResponse, RunsResponse } from './api-types.js';
import { ArtifactNotFoundError, fetchArtifact } from './artifact-download.js';
import { compareView } from './compare-view.js';
import { LiveFeed } from './live-feed.js';
import { modelsView, promoteFromUi, rollbackFromUi } from './models-view.js';
import { runPage } from './run-page.js';
import { RunRowSource } from './run-rows.js';
import { MAX_PAGE, runsQuery, type RunsQueryString } from './runs-query.js';
import { MAX_FILTER_LENGTH } from '../../core/tracker/run-filter.js';
import type { Asset } from './static-assets.js';

/** Options of {@link buildUiServer}. */
export interface UiServerOptions {
  tracker: Tracker;
  store: ObjectStore;
  runsDir: string;
  /** The built dashboard files by URL path (see `loadAssets`). */
  assets: Map<string, Asset>;
  /** Promote, rollback, delete and restore answer 403. */
  readOnly: boolean;
  /** Milliseconds between checks of the tracker for live updates. */
  pollMs: number;
  /** The runs table's row source (pass one already read to warm the first page load). */
  rows?: RunRowSource;
  /** Called with errors that became a 500 answer. */
  onInternalError?: (err: Error) => void;
}

/** The route does not allow this in read-only mode. */
class ReadOnlyError extends Error {
  readonly statusCode = 403;
  constructor(what: string) {
    super(`the dashboard was started with --read-only: ${what} here`);
  }
}

const NOT_FOUND = [UnknownRunError, ModelNotFoundError, ArtifactNotFoundError];
const REF = { type: 'string', minLength: 1, maxLength: 200 } as const;
const ALIAS = { type: 'string', minLength: 1, maxLength: 100 } as const;

/**
 * The dashboard's server: the built front end at `/`, and a JSON API under `/api/` over the
 * tracker (only through the Tracker interface) and the cache store. A bad request (query string,
 * body, unknown run) is a 4xx with a message, never a 500.
 */
export function buildUiServer(o: UiServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0]!;
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const where = `${dataVar}${e.instancePath}`;
      return new Error(extra !== undefined ? `${where} must NOT have additional properties: ${extra}` : `${where} ${e.message ?? 'is invalid'}`);
    },
  });
  const source = o.rows ?? new RunRowSource(o.tracker);
  const feed = new LiveFeed(o.tracker, o.pollMs, (err) => o.onInternalError?.(err as Error));
  const readArtifact = cacheArtifactReader(o.store);
  app.addHook('onClose', async () => feed.close());

  app.setErrorHandler((err: FastifyError | Error, _req, reply) => {
    let status = (err as FastifyError).statusCode ?? 500;
    if (NOT_FOUND.some((E) => err instanceof E)) status = 404;
    else if (err instanceof UserError || err instanceof AmbiguousRunError) status = 400;
    if (status < 400 || status > 599) status = 500;
    if (status === 500) o.onInternalError?.(err);
    const body: ApiError = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: status === 500 ? `internal error: ${err.message}` : err.message };
    if (err instanceof UserError && err.hint) body.hint = err.hint;
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ApiError = { statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` };
    void reply.code(404).send(body);
  });

  app.get('/api/info', async (): Promise<InfoResponse> => ({ schemaVersion: 1, readOnly: o.readOnly, runsDir: o.runsDir, pollMs: o.pollMs }));

  app.get<{ Querystring: RunsQueryString }>(
    '/api/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            filter: { type: 'string', maxLength: MAX_FILTER_LENGTH },
            search: { type: 'string', maxLength: 500 },
            sort: { type: 'string', minLength: 1, maxLength: 600 },
            dir: { type: 'string', enum: ['asc', 'desc'] },
            offset: { type: 'integer', minimum: 0, maximum: 100_000_000 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
            deleted: { type: 'string', enum: ['exclude', 'include', 'only'] },
          },
        },
      },
    },
    async (req): Promise<RunsResponse> => {
      const query = runsQuery(req.query);
      const [page, all, deleted] = await Promise.all([source.page(query), source.count(), source.deletedCount()]);
      return { schemaVersion: 1, runs: page.rows, offset: query.offset ?? 0, matching: page.total, columns: await source.columns(all), total: all, deleted, filter: query.where ?? null };
    },
  );

  app.get<{ Params: { id: string } }>('/api/runs/:id', { schema: { params: { type: 'object', properties: { id: REF } } } }, async (req): Promise<RunPageResponse> => ({
    ...(await runPage(o.tracker, o.store, o.runsDir, req.params.id, readArtifact)),
    readOnly: o.readOnly,
  }));

  app.get<{ Params: { id: string; stage: string; name: string }; Querystring: { file?: string } }>(
    '/api/runs/:id/artifacts/:stage/:name',
    {
      schema: {
        params: { type: 'object', properties: { id: REF, stage: REF, name: REF } },
        querystring: { type: 'object', additionalProperties: false, properties: { file: { type: 'string', minLength: 1, maxLength: 4096 } } },
      },
    },
    async (req, reply) => {
      const file = await fetchArtifact(o.tracker, o.store, req.params.id, req.params.stage, req.params.name, req.query.file);
      const stream = createReadStream(file.path);
      stream.on('close', () => void file.cleanup());
      const ascii = file.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(file.size))
        .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
        .send(stream);
    },
  );

  for (const action of ['delete', 'restore'] as const) {
    app.post<{ Params: { id: string } }>(`/api/runs/:id/${action}`, { schema: { params: { type: 'object', properties: { id: REF } } } }, async (req) => {
      if (o.readOnly) throw new ReadOnlyError('runs cannot be deleted or restored');
      return setRunsDeleted(o.tracker, [req.params.id], action === 'delete');
    });
  }

  app.get<{ Querystring: { runs?: string; sweep?: string; baseline?: string } }>(
    '/api/compare',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { runs: { type: 'string', minLength: 1, maxLength: 20_000, pattern: '^[^,]+(,[^,]+)*$' }, sweep: REF, baseline: REF },
        },
      },
    },
    async (req) => {
      const { runs, sweep, baseline } = req.query;
      if (!runs && !sweep) throw new UserError('name the runs to compare: /api/compare?runs=ID,ID,… (or ?sweep=ID)');
      if (runs && sweep) throw new UserError('give runs or sweep, not both');
      return compareView(o.tracker, source, readArtifact, { runs: runs?.split(','), sweep, baseline });
    },
  );

  app.get('/api/models', async () => modelsView(o.tracker, o.readOnly));

  app.post<{ Params: { name: string }; Body: { version: number; alias: string } }>(
    '/api/models/:name/promote',
    {
      schema: {
        params: { type: 'object', properties: { name: REF } },
        body: { type: 'object', additionalProperties: false, required: ['version', 'alias'], properties: { version: { type: 'integer', minimum: 1 }, alias: ALIAS } },
      },
    },
    async (req) => {
      if (o.readOnly) throw new ReadOnlyError('models cannot be promoted or rolled back');
      return promoteFromUi(o.tracker, req.params.name, req.body.version, req.body.alias);
    },
  );

  app.post<{ Params: { name: string }; Body: { alias: string } }>(
    '/api/models/:name/rollback',
    {
      schema: {
        params: { type: 'object', properties: { name: REF } },
        body: { type: 'object', additionalProperties: false, required: ['alias'], properties: { alias: ALIAS } },
      },
    },
    async (req) => {
      if (o.readOnly) throw new ReadOnlyError('models cannot be promoted or rolled back');
      return rollbackFromUi(o.tracker, req.params.name, req.body.alias);
    },
  );

  app.get('/api/events', (_req, reply) => {
    reply.hijack();
    feed.attach(reply.raw);
  });

  const sendAsset = (path: string, reply: import('fastify').FastifyReply) => {
    const asset = o.assets.get(path);
    if (!asset) return false;
    void reply
      .header('content-type', asset.type)
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
    return true;
  };
  app.get('/', (_req, reply) => {
    sendAsset('/index.html', reply);
  });
  app.get('/*', (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]!);
    } catch {
      void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `malformed URL ${req.url}` } satisfies ApiError);
      return;
    }
    if (path.startsWith('/api/') || !sendAsset(path, reply)) {
      void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${path}` } satisfies ApiError);
    }
  });

  return app;
}
