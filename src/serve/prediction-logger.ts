import { PredictionLog, type PredictionEntry, type ResolvedId, type TrueLabel } from '../core/monitor/prediction-log.js';
import type { Prediction } from '../ml/predict.js';

/** Options of {@link PredictionLogger}. */
export interface PredictionLoggerOptions {
  /** Rows older than this many milliseconds are deleted (on open, then at most once a minute). */
  retentionMs: number;
  /** How long a logged row may wait in memory before it is written. Default 200. */
  flushMs?: number;
  /** Most rows waiting in memory; past that new rows are dropped (and counted) until the next write. Default 100000. */
  maxQueued?: number;
  /** Called when a write fails (the rows of that batch are lost; serving goes on). */
  onError?: (err: Error) => void;
  now?: () => number;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * The server's side of the prediction log: a request hands over its rows and predictions (an array
 * push), and they are written in one transaction per `flushMs` on a timer, after the answers went
 * out — so logging adds no disk write to a request's latency.
 */
export class PredictionLogger {
  readonly #log: PredictionLog;
  readonly #o: Required<Omit<PredictionLoggerOptions, 'onError'>> & Pick<PredictionLoggerOptions, 'onError'>;
  #queue: PredictionEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastPrune: number;
  #dropped = 0;
  #written = 0;
  #closed = false;

  constructor(path: string, options: PredictionLoggerOptions) {
    this.#o = { flushMs: 200, maxQueued: 100_000, now: Date.now, ...options };
    this.#log = PredictionLog.create(path);
    this.#lastPrune = this.#o.now();
    this.#log.prune(this.#lastPrune - this.#o.retentionMs);
  }

  get path(): string {
    return this.#log.path;
  }

  /** Rows dropped because the queue was full, and rows written, since the start. */
  get counts(): { dropped: number; written: number } {
    return { dropped: this.#dropped, written: this.#written };
  }

  /** Queues the rows of one answered request. */
  record(requestId: string, model: { name: string; version: number }, rows: readonly Record<string, unknown>[], predictions: readonly Prediction[]): void {
    if (this.#closed) return;
    const time = this.#o.now();
    for (let i = 0; i < rows.length; i++) {
      if (this.#queue.length >= this.#o.maxQueued) {
        this.#dropped += rows.length - i;
        break;
      }
      this.#queue.push({ id: `${requestId}/${i}`, requestId, row: i, time, model: model.name, version: model.version, input: rows[i]!, prediction: predictions[i]! });
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#o.flushMs).unref();
  }

  /** Writes what is queued now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    try {
      this.#log.append(batch);
      this.#written += batch.length;
      const now = this.#o.now();
      if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
        this.#lastPrune = now;
        this.#log.prune(now - this.#o.retentionMs);
      }
    } catch (err) {
      this.#o.onError?.(err as Error);
    }
  }

  /** What each feedback id names (queued rows are written first, so an answer just sent can get its label). */
  resolve(ids: readonly string[]): ResolvedId[] {
    this.flush();
    return this.#log.resolve(ids);
  }

  setLabels(labels: readonly { row: string; label: TrueLabel }[]): void {
    this.#log.setLabels(labels, this.#o.now());
  }

  /** Writes what is queued and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#log.close();
  }
}
