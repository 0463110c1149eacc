import type { MetricPoint, Tracker } from './types.js';

/** When a {@link MetricBuffer} writes what it holds. */
export interface MetricBufferOptions {
  /** Flush as soon as this many points are waiting. Default 500. */
  maxPoints?: number;
  /** Flush at most this long after the first waiting point was added. Default 250. */
  maxDelayMs?: number;
}

/** A point was added to a buffer after {@link MetricBuffer.close}. */
export class MetricBufferClosedError extends Error {
  constructor() {
    super('metric point added after the metric buffer was closed; create a new MetricBuffer for the next stage');
    this.name = 'MetricBufferClosedError';
  }
}

/**
 * Collects metric points and writes them in batches (one `logMetrics` call, one transaction each),
 * when full, after a short delay, and on flush/close. Each batch is handed to the tracker at once, in
 * order (the run recorder queues them behind its other writes). A failed write is thrown by the next
 * call (add, flush or close), and no batch is written after it until then.
 */
export class MetricBuffer {
  private points: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private closed = false;
  private readonly maxPoints: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly tracker: Pick<Tracker, 'logMetrics'>,
    opts: MetricBufferOptions = {},
  ) {
    this.maxPoints = Math.max(1, opts.maxPoints ?? 500);
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 250);
  }

  add(point: MetricPoint): void {
    this.rethrow();
    if (this.closed) throw new MetricBufferClosedError();
    this.points.push(point);
    if (this.points.length >= this.maxPoints) void this.write();
    else this.timer ??= setTimeout(() => void this.write(), this.maxDelayMs).unref();
  }

  /** Resolves when every point added so far is written. */
  async flush(): Promise<void> {
    await this.write();
    this.rethrow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
  }

  private write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.points.length > 0) {
      const batch = this.points;
      this.points = [];
      if (this.failure) return this.writing;
      let started: Promise<void>;
      try {
        started = Promise.resolve(this.tracker.logMetrics(batch));
      } catch (error) {
        started = Promise.reject(error);
      }
      const written = started.catch((error: unknown) => {
        this.failure ??= { error };
      });
      this.writing = Promise.all([this.writing, written]).then(() => {});
    }
    return this.writing;
  }

  private rethrow(): void {
    const failure = this.failure;
    if (!failure) return;
    this.failure = undefined;
    throw failure.error;
  }
}
