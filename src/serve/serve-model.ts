import type { FastifyInstance } from 'fastify';
import { UserError } from '../errors.js';
import { exampleRow } from '../app/models/model-views.js';
import { formatModelRef, isMovingRef, type ModelRef } from '../app/models/model-ref.js';
import { locateVerifiedModel, resolveModel } from '../app/models/resolve-model.js';
import type { ModelFetchSource, RemoteOpener } from '../app/models/fetch-model-files.js';
import { predictionLogPath } from '../core/monitor/prediction-log.js';
import { openExistingTracker } from '../core/tracker/open-tracker.js';
import type { ModelVersion, Tracker } from '../core/tracker/types.js';
import { loadPredictor } from '../ml/predict.js';
import type { BackendChoice } from '../ml/backend.js';
import { watchAlias, type AliasWatcher } from './alias-watcher.js';
import { DriftMonitor } from './drift.js';
import { createServerMetrics } from './metrics.js';
import { ModelSlot, type ServedModel } from './model-slot.js';
import { PredictionLogger } from './prediction-logger.js';
import { buildServer } from './server.js';

/** The server could not bind its address: the port is taken or not allowed, or the host is not local. */
export class ListenError extends UserError {
  constructor(host: string, port: number, code: string, cause: unknown) {
    const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs privileges to bind' : 'is not an address of this machine';
    super(`cannot listen on ${host}:${port}: ${code === 'EADDRNOTAVAIL' ? `${host} ${why}` : `the port ${why}`}`, {
      hint: 'choose another --port (--port 0 picks a free one) or --host',
      cause,
    });
    this.name = 'ListenError';
  }
}

/** Options of {@link startServing}. */
export interface ServeOptions {
  runsDir: string;
  ref: ModelRef;
  host: string;
  /** 0 picks a free port. */
  port: number;
  backend: BackendChoice;
  /** Binary models: predict class 1 when its probability is at least this (default 0.5). */
  threshold?: number;
  /** How often an alias (or `latest`) is re-read; 0 never. */
  watchIntervalMs: number;
  bodyLimit: number;
  maxInstances: number;
  /** The remote cache a version registered on another machine is fetched from (its files are not here). */
  remote?: RemoteOpener;
  /** Bearer token `POST /predict` and `GET /metrics` require, when set. */
  token?: string;
  /** Most connections open at once. */
  maxConnections?: number;
  /** Log every prediction to `RUNS_DIR/monitor/NAME.sqlite`, keeping rows this many milliseconds; false or absent: no log (and no /feedback). */
  predictionLog?: { retentionMs: number } | false;
  /** Lifecycle messages: listening, swaps, reload failures, internal errors. */
  log: (line: string) => void;
  /** One line per request, when wanted. */
  requestLog?: (line: string) => void;
}

/** What `mlpipe serve` did, for its JSON result. */
export interface ServeSummary {
  schemaVersion: 1;
  model: string;
  follows: string | null;
  url: string;
  /** Every version served, in order. */
  versions: number[];
  /** The prediction log, or null with `--no-log`. */
  predictionLog: { path: string; rows: number; dropped: number } | null;
}

/** A listening server. */
export interface RunningServer {
  url: string;
  /** The prediction log's file, when predictions are logged. */
  predictionLogPath?: string;
  app: FastifyInstance;
  current(): ServedModel;
  /** Re-reads the followed alias now (the watcher also does it every interval). */
  checkAlias(): Promise<void>;
  /** Stops accepting connections, lets in-flight requests finish (at most `drainTimeoutMs`), then frees the model. */
  close(drainTimeoutMs?: number): Promise<ServeSummary>;
}

async function loadServed(runsDir: string, version: ModelVersion, backend: BackendChoice, threshold: number | undefined, fetch: ModelFetchSource): Promise<ServedModel> {
  const dir = await locateVerifiedModel(runsDir, version, fetch);
  const predictor = await loadPredictor(dir, { backend, threshold });
  try {
    predictor.predict([exampleRow(predictor.meta)]);
  } catch (err) {
    predictor.dispose();
    throw err;
  }
  return { name: version.name, version: version.version, dir, predictor, drift: new DriftMonitor(predictor.meta.dataset), loadedAt: Date.now() };
}

function followed(ref: ModelRef): string | null {
  if (ref.selector.kind === 'alias') return ref.selector.alias;
  return ref.selector.kind === 'latest' ? 'latest' : null;
}

async function lookupVersion(tracker: Tracker, ref: ModelRef): Promise<number | undefined> {
  const s = ref.selector;
  return (s.kind === 'alias' ? await tracker.getModel(ref.name, s.alias) : await tracker.getModel(ref.name))?.version;
}

/**
 * Resolves and loads a registered model, serves it over HTTP, and — when the reference is an alias
 * or a bare name — follows it: a newly promoted version is loaded and warmed up beside the old one,
 * then swapped in atomically.
 */
export async function startServing(o: ServeOptions): Promise<RunningServer> {
  const tracker = await openExistingTracker(o.runsDir);
  let slot: ModelSlot;
  try {
    slot = new ModelSlot(await loadServed(o.runsDir, await resolveModel(tracker, o.ref), o.backend, o.threshold, { tracker, remote: o.remote }));
  } catch (err) {
    await tracker.close();
    throw err;
  }
  const versions = [slot.current.version];
  let predictionLog: PredictionLogger | undefined;
  try {
    if (o.predictionLog) predictionLog = new PredictionLogger(predictionLogPath(o.runsDir, o.ref.name), { retentionMs: o.predictionLog.retentionMs, onError: (err) => o.log(`prediction log: a batch could not be written: ${err.message}`) });
  } catch (err) {
    slot.close();
    await tracker.close();
    throw err;
  }
  const logger = predictionLog;
  const metrics = createServerMetrics(() => slot.current, logger && (() => logger.counts));
  const follows = followed(o.ref);
  const app = buildServer({
    slot,
    metrics,
    bodyLimit: o.bodyLimit,
    maxInstances: o.maxInstances,
    token: o.token,
    maxConnections: o.maxConnections,
    follows,
    log: o.requestLog,
    predictionLog,
    onInternalError: (err) => o.log(`internal error: ${err.stack ?? err.message}`),
  });
  let url: string;
  try {
    url = await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await predictionLog?.close();
    slot.close();
    await tracker.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new ListenError(o.host, o.port, code, err);
    throw err;
  }
  const label = formatModelRef(o.ref);
  let watcher: AliasWatcher | undefined;
  if (isMovingRef(o.ref)) {
    watcher = watchAlias({
      intervalMs: o.watchIntervalMs > 0 ? o.watchIntervalMs : 2 ** 31 - 1,
      lookup: () => lookupVersion(tracker, o.ref),
      current: () => slot.current.version,
      load: async (version) => {
        const next = await loadServed(o.runsDir, await resolveModel(tracker, { ...o.ref, selector: { kind: 'version', version } }), o.backend, o.threshold, { tracker, remote: o.remote });
        const previous = slot.swap(next);
        versions.push(version);
        metrics.modelSwapped();
        o.log(`${label} moved: now serving v${version} (was v${previous.version})`);
      },
      onError: (err, version) => {
        metrics.reloadFailed();
        o.log(`${label}${version === undefined ? '' : ` → v${version}`}: keeping v${slot.current.version}: ${err.message}`);
      },
    });
  }
  let closing: Promise<ServeSummary> | undefined;
  return {
    url,
    predictionLogPath: predictionLog?.path,
    app,
    current: () => slot.current,
    checkAlias: () => watcher?.check() ?? Promise.resolve(),
    close(drainTimeoutMs = 10_000) {
      closing ??= (async () => {
        await watcher?.stop();
        const force = setTimeout(() => app.server.closeAllConnections(), drainTimeoutMs);
        try {
          await app.close();
        } finally {
          clearTimeout(force);
          await predictionLog?.close();
          slot.close();
          await tracker.close();
        }
        const logged = predictionLog && { path: predictionLog.path, rows: predictionLog.counts.written, dropped: predictionLog.counts.dropped };
        return { schemaVersion: 1 as const, model: o.ref.name, follows, url, versions, predictionLog: logged ?? null };
      })();
      return closing;
    },
  };
}
