// Logs 100,000 metric points into one run, once through MetricBuffer and once through a single
// logMetrics call, and prints wall time and points/s for each. Needs `npm run build` first.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MetricBuffer } from '../dist/core/tracker/metric-buffer.js';
import { openTracker } from '../dist/core/tracker/open-tracker.js';

const POINTS = Number(process.env.POINTS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-tracker-'));
const tracker = await openTracker(dir);

const newRun = (id) =>
  tracker.createRun({
    id,
    pipeline: 'bench',
    specPath: 'bench.yaml',
    specHash: 'h',
    status: 'running',
    startedAt: Date.now(),
    params: {},
    host: hostname(),
    pid: process.pid,
  });

const points = (runId) =>
  Array.from({ length: POINTS }, (_, i) => ({
    runId,
    stage: 'train',
    key: i % 2 === 0 ? 'loss' : 'val_loss',
    step: i >> 1,
    value: 1 / (i + 1),
    time: Date.now(),
  }));

async function measure(label, runId, log) {
  await newRun(runId);
  const batch = points(runId);
  const start = performance.now();
  await log(batch);
  const ms = performance.now() - start;
  const stored = (await tracker.getMetrics(runId)).length;
  if (stored !== POINTS) throw new Error(`${label}: stored ${stored} of ${POINTS} points`);
  console.log(`${label.padEnd(28)} ${POINTS} points  ${ms.toFixed(0).padStart(5)} ms  ${Math.round(POINTS / (ms / 1000)).toLocaleString('en-US')} points/s`);
}

try {
  await measure('MetricBuffer (500/batch)', 'r-buffer', async (batch) => {
    const buffer = new MetricBuffer(tracker);
    for (const p of batch) buffer.add(p);
    await buffer.close();
  });
  await measure('logMetrics (one call)', 'r-single', (batch) => tracker.logMetrics(batch));
} finally {
  await tracker.close();
  rmSync(dir, { recursive: true, force: true });
}
