import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricBuffer, MetricBufferClosedError } from '../../src/core/tracker/metric-buffer.js';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { MetricPoint } from '../../src/core/tracker/types.js';

const point = (step: number): MetricPoint => ({ runId: 'r', stage: 'train', key: 'loss', step, value: 1 / (step + 1), time: step });

const recorder = () => {
  const batches: MetricPoint[][] = [];
  return {
    batches,
    tracker: {
      logMetrics: async (points: MetricPoint[]) => {
        batches.push(points);
      },
    },
  };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('MetricBuffer', () => {
  it('hands a batch to the tracker as soon as it holds maxPoints', async () => {
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker, { maxPoints: 3, maxDelayMs: 60_000 });
    for (let i = 0; i < 7; i++) buffer.add(point(i));
    expect(batches.map((b) => b.map((p) => p.step))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await buffer.close();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('flushes maxDelayMs after the first waiting point', async () => {
    vi.useFakeTimers();
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker);
    buffer.add(point(0));
    await vi.advanceTimersByTimeAsync(200);
    buffer.add(point(1));
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(49);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[point(0), point(1)]]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(batches).toHaveLength(1);
    buffer.add(point(2));
    await vi.advanceTimersByTimeAsync(250);
    expect(batches).toEqual([[point(0), point(1)], [point(2)]]);
  });

  it('writes the rest on flush and close, then refuses new points', async () => {
    vi.useFakeTimers();
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker);
    await buffer.flush();
    expect(batches).toEqual([]);
    buffer.add(point(0));
    await buffer.flush();
    buffer.add(point(1));
    await buffer.close();
    await buffer.close();
    expect(batches).toEqual([[point(0)], [point(1)]]);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => buffer.add(point(2))).toThrow(MetricBufferClosedError);
  });

  it('resolves flush only when the tracker has written the batch', async () => {
    let release!: () => void;
    const written: MetricPoint[][] = [];
    const buffer = new MetricBuffer({
      logMetrics: (points) =>
        new Promise<void>((resolve) => {
          release = () => {
            written.push(points);
            resolve();
          };
        }),
    });
    buffer.add(point(0));
    let flushed = false;
    const flushing = buffer.flush().then(() => (flushed = true));
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(written).toEqual([[point(0)]]);
  });

  it('reports a failed timed flush on the next call, and writes nothing after it until then', async () => {
    vi.useFakeTimers();
    const failure = new Error('disk full');
    let calls = 0;
    const buffer = new MetricBuffer({
      logMetrics: async () => {
        calls++;
        throw failure;
      },
    });
    buffer.add(point(0));
    await vi.advanceTimersByTimeAsync(250);
    expect(() => buffer.add(point(1))).toThrow(failure);
    buffer.add(point(2));
    await expect(buffer.flush()).rejects.toThrow(failure);
    expect(calls).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes every point into a real tracker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpipe-buffer-'));
    const tracker = await openTracker(dir);
    try {
      await tracker.createRun({
        id: 'r',
        pipeline: 'p',
        specPath: 'p.yaml',
        specHash: 'h',
        status: 'running',
        startedAt: 0,
        params: {},
        host: hostname(),
        pid: process.pid,
      });
      const buffer = new MetricBuffer(tracker, { maxPoints: 4 });
      for (let i = 0; i < 10; i++) buffer.add(point(i));
      await buffer.close();
      expect((await tracker.getMetrics('r')).map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
