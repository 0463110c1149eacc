import { hostname } from 'node:os';
import type { MetricPoint, Tracker } from '../../src/core/tracker/types.js';

/** A run with final metrics (`stage.key`) and curves (`stage.key` → values by step), inserted by hand. */
export interface SeedRun {
  id: string;
  pipeline?: string;
  startedAt: number;
  params?: Record<string, unknown>;
  metrics?: Record<string, number>;
  curves?: Record<string, number[]>;
  status?: 'completed' | 'failed';
}

export async function seedRun(tracker: Tracker, r: SeedRun): Promise<void> {
  await tracker.createRun({
    id: r.id,
    pipeline: r.pipeline ?? 'iris',
    specPath: '/nowhere/pipeline.yaml',
    specHash: 'h',
    status: r.status ?? 'completed',
    startedAt: r.startedAt,
    endedAt: r.startedAt + 1500,
    params: r.params ?? {},
    host: hostname(),
    pid: process.pid,
  });
  const points: MetricPoint[] = [];
  const split = (name: string) => [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)];
  for (const [name, values] of Object.entries(r.curves ?? {})) {
    const [stage, key] = split(name);
    values.forEach((value, step) => points.push({ runId: r.id, stage, key, step, value, time: r.startedAt }));
  }
  for (const [name, value] of Object.entries(r.metrics ?? {})) {
    const [stage, key] = split(name);
    points.push({ runId: r.id, stage, key, step: null, value, time: r.startedAt });
  }
  await tracker.logMetrics(points);
}
