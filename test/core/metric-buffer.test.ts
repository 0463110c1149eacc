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
  return { batches, tracker: { logMetrics: (points: MetricPoint[]) => void batches.push(points) } };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('MetricBuffer', () => {
  it('flushes as soon as it holds maxPoints', () => {
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker, { maxPoints: 3, maxDelayMs: 60_000 });
    for (let i = 0; i < 7; i++) buffer.add(point(i));
    expect(batches.map((b) => b.map((p) => p.step))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    buffer.close();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('flushes maxDelayMs after the first waiting point', () => {
    vi.useFakeTimers();
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker);
    buffer.add(point(0));
    vi.advanceTimersByTime(200);
    buffer.add(point(1));
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[point(0), point(1)]]);
    vi.advanceTimersByTime(10_000);
    expect(batches).toHaveLength(1);
    buffer.add(point(2));
    vi.advanceTimersByTime(250);
    expect(batches).toEqual([[point(0), point(1)], [point(2)]]);
  });

  it('writes the rest on flush and close, then refuses new points', () => {
    vi.useFakeTimers();
    const { batches, tracker } = recorder();
    const buffer = new MetricBuffer(tracker);
    buffer.flush();
    expect(batches).toEqual([]);
    buffer.add(point(0));
    buffer.flush();
    buffer.add(point(1));
    buffer.close();
    buffer.close();
    expect(batches).toEqual([[point(0)], [point(1)]]);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => buffer.add(point(2))).toThrow(MetricBufferClosedError);
  });

  it('reports a failed timed flush on the next call', () => {
    vi.useFakeTimers();
    const failure = new Error('disk full');
    const buffer = new MetricBuffer({
      logMetrics: () => {
        throw failure;
      },
    });
    buffer.add(point(0));
    expect(() => vi.advanceTimersByTime(250)).not.toThrow();
    expect(() => buffer.add(point(1))).toThrow(failure);
    buffer.add(point(2));
    expect(() => buffer.flush()).toThrow(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes every point into a real tracker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpipe-buffer-'));
    const tracker = openTracker(dir);
    try {
      tracker.createRun({
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
      buffer.close();
      expect(tracker.getMetrics('r').map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      tracker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
