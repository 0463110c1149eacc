// Fills a tracker with `runs` completed runs of pipeline "bench": params, 20 final metrics and two
// 20-point curves each (what compare.mjs and compare-trackers.mjs measure over).
import { hostname } from 'node:os';
import { join } from 'node:path';

export const METRICS = 20;
export const EPOCHS = 20;

export async function seedRuns(tracker, runs, dir) {
  const t0 = Date.now() - runs * 60_000;
  for (let r = 0; r < runs; r++) {
    const id = `r-${r.toString(16).padStart(12, '0')}`;
    const startedAt = t0 + r * 60_000;
    await tracker.createRun({
      id, pipeline: 'bench', specPath: join(dir, 'pipeline.yaml'), specHash: 'h', status: 'completed', startedAt,
      endedAt: startedAt + 5000, params: { lr: 0.001 * (1 + (r % 10)), epochs: EPOCHS, model: { units: 8 << (r % 3) } }, host: hostname(), pid: process.pid,
    });
    const points = [];
    for (let m = 0; m < METRICS; m++) {
      const key = m % 4 === 0 ? `loss_${m}` : `metric_${m}`;
      points.push({ runId: id, stage: m < 10 ? 'evaluate' : 'train', key, step: null, value: Math.sin(r * 7 + m) * 0.5 + 0.5, time: startedAt });
    }
    for (const key of ['loss', 'val_accuracy']) {
      for (let e = 0; e < EPOCHS; e++) points.push({ runId: id, stage: 'train', key, step: e, value: 1 / (e + 1 + (r % 5)), time: startedAt });
    }
    await tracker.logMetrics(points);
  }
}
