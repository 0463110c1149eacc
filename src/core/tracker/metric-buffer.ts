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
 * Collects metric points and writes them in batches (one transaction each), when full, after a
 * short delay, and on close. A failure of a timed flush is thrown by the next call.
 */
export class MetricBuffer {
  private points: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
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
    if (this.points.length >= this.maxPoints) this.flush();
    else this.timer ??= setTimeout(() => this.flushFromTimer(), this.maxDelayMs).unref();
  }

  flush(): void {
    this.write();
    this.rethrow();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.points.length === 0) return;
    const batch = this.points;
    this.points = [];
    this.tracker.logMetrics(batch);
  }

  private flushFromTimer(): void {
    try {
      this.write();
    } catch (error) {
      this.failure = { error };
    }
  }

  private rethrow(): void {
    const failure = this.failure;
    if (!failure) return;
    this.failure = undefined;
    throw failure.error;
  }
}
