import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PredictionLog, type RequestEntry, type ResolvedId, type TrueLabel } from '../core/monitor/prediction-log.js';
import type { Prediction } from '../ml/predict.js';
import { PREDICTION_LOG_WORKER_SOURCE, type WriterData, type WriterMessage, type WriterReply } from './prediction-log-worker.js';

/** Options of {@link PredictionLogger}. */
export interface PredictionLoggerOptions {
  /** Rows older than this many milliseconds are deleted (on open, then at most once a minute). */
  retentionMs: number;
  /** How long a logged row may wait in memory before it is handed to the writer thread. Default 200. */
  flushMs?: number;
  /** Most rows waiting (in memory or at the writer); past that new requests are dropped (their rows counted) until the writer catches up. Default 100000. */
  maxQueued?: number;
  /** Called when a write fails (the rows of that batch are lost; serving goes on). */
  onError?: (err: Error) => void;
  now?: () => number;
}

const PRUNE_EVERY_MS = 60_000;

type Outgoing = WriterMessage extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

interface Waiting {
  type: Outgoing['type'];
  rows: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The server's side of the prediction log: a request hands over its rows and predictions (an array
 * push); every `flushMs` they go in one message to a writer thread, which encodes and writes them in
 * one transaction — so logging adds neither a disk write nor the JSON encoding to the event loop that
 * answers requests. `close()` resolves once everything recorded before it is on disk.
 */
export class PredictionLogger {
  readonly #log: PredictionLog;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #o: Required<Omit<PredictionLoggerOptions, 'onError'>> & Pick<PredictionLoggerOptions, 'onError'>;
  readonly #waiting = new Map<number, Waiting>();
  #queue: RequestEntry[] = [];
  #queuedRows = 0;
  #sentRows = 0;
  #seq = 0;
  #lastAppend: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #lastPrune: number;
  #dropped = 0;
  #written = 0;
  #failed: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(path: string, options: PredictionLoggerOptions) {
    this.#o = { flushMs: 200, maxQueued: 100_000, now: Date.now, ...options };
    this.#log = PredictionLog.create(path);
    const workerData: WriterData = { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.#log.path };
    this.#worker = new Worker(PREDICTION_LOG_WORKER_SOURCE, { eval: true, workerData });
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => this.#settle(reply));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        if (!this.#closing || this.#waiting.size > 0) this.#fail(new Error(`the prediction log's writer thread stopped (exit code ${code})`));
        resolve();
      }),
    );
    this.#lastPrune = this.#o.now();
    this.#prune(this.#lastPrune);
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
    if (this.#closing) return;
    if (this.#failed || this.#queuedRows + this.#sentRows + rows.length > this.#o.maxQueued) {
      this.#dropped += rows.length;
      return;
    }
    this.#queue.push({ id: requestId, time: this.#o.now(), model: model.name, version: model.version, inputs: rows, predictions });
    this.#queuedRows += rows.length;
    this.#timer ??= setTimeout(() => void this.flush(), this.#o.flushMs).unref();
  }

  /** Hands what is queued to the writer; resolves when everything recorded so far is written (or its loss reported to `onError`). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length > 0 && !this.#failed) {
      const rows = this.#queuedRows;
      this.#sentRows += rows;
      this.#lastAppend = this.#send({ type: 'append', entries: this.#queue, rows }, rows);
      const now = this.#o.now();
      if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
        this.#lastPrune = now;
        this.#prune(now);
      }
    } else if (this.#failed) this.#dropped += this.#queuedRows;
    this.#queue = [];
    this.#queuedRows = 0;
    return this.#lastAppend;
  }

  /** What each feedback id names (queued rows are written first, so an answer just sent can get its label). */
  async resolve(ids: readonly string[]): Promise<ResolvedId[]> {
    await this.flush();
    return this.#log.resolve(ids);
  }

  /** Sets true labels; resolves once they are written, rejects when they could not be. */
  setLabels(labels: readonly { request: string; row: number; label: TrueLabel }[]): Promise<void> {
    return this.#send({ type: 'labels', labels, time: this.#o.now() });
  }

  /** Writes everything recorded, stops the writer and closes the file. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Held until the writer has exited: once the server has closed, nothing else keeps the process alive.
      this.#worker.ref();
      const flushed = this.flush();
      const closed = this.#send({ type: 'close' }).catch(() => undefined);
      await Promise.all([flushed, closed]);
      if (this.#failed) await this.#worker.terminate();
      await this.#exited;
      this.#log.close();
    })();
    return this.#closing;
  }

  #prune(now: number): void {
    this.#send({ type: 'prune', before: now - this.#o.retentionMs }).catch((err: Error) => this.#o.onError?.(err));
  }

  #send(message: Outgoing, rows = 0): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      if (this.#waiting.size === 0) this.#worker.ref();
      this.#waiting.set(seq, { type: message.type, rows, resolve, reject });
      this.#worker.postMessage({ ...message, seq });
    });
  }

  #settle(reply: WriterReply): void {
    const w = this.#waiting.get(reply.seq);
    if (!w) return;
    this.#waiting.delete(reply.seq);
    if (this.#waiting.size === 0 && !this.#closing) this.#worker.unref();
    this.#complete(w, reply.error === undefined ? undefined : new Error(reply.error));
  }

  /** An append that failed is reported and resolved (its rows are lost, serving goes on); anything else rejects. */
  #complete(w: Waiting, err: Error | undefined): void {
    this.#sentRows -= w.rows;
    if (err === undefined) {
      this.#written += w.rows;
      w.resolve();
    } else if (w.type === 'append') {
      this.#o.onError?.(err);
      w.resolve();
    } else w.reject(err);
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = err;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    if (!waiting.some((w) => w.type === 'append')) this.#o.onError?.(err);
    for (const w of waiting) this.#complete(w, err);
  }
}
