// Logs POINTS (default 100,000) metric points into one run, through MetricBuffer as a run's recorder
// does, on the SQLite tracker (a file in a temp runs folder) and on a PostgreSQL tracker (a database
// of its own, see postgres-db.mjs), BENCH_REPS times each (default 5), alternating; prints the
// median with min–max, points/s, and PostgreSQL's ratio to SQLite. Issue 11's goal: 100,000 points
// on PostgreSQL in under 2 s. Also one logMetrics call of all points. Needs `npm run build` first.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricBuffer } from '../dist/core/tracker/metric-buffer.js';
import { openTracker } from '../dist/core/tracker/open-tracker.js';
import { median, paired, ratio, spread } from './paired.mjs';
import { benchDatabase } from './postgres-db.mjs';

const POINTS = Number(process.env.POINTS ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-tracker-'));
const db = await benchDatabase('metrics');
const trackers = { sqlite: await openTracker(dir), postgresql: await openTracker(dir, { tracker: db.url }) };

const points = (runId) =>
  Array.from({ length: POINTS }, (_, i) => ({ runId, stage: 'train', key: i % 2 === 0 ? 'loss' : 'val_loss', step: i >> 1, value: 1 / (i + 1), time: Date.now() }));

let n = 0;
/** One measurement: a new run, its points prepared untimed, then logged (timed by the caller). */
function logger(tracker, how) {
  let batch;
  let runId;
  return {
    prepare: async () => {
      runId = `r-bench-${++n}`;
      await tracker.createRun({ id: runId, pipeline: 'bench', specPath: 'bench.yaml', specHash: 'h', status: 'running', startedAt: Date.now(), params: {}, host: hostname(), pid: process.pid });
      batch = points(runId);
    },
    log: async () => {
      if (how === 'buffer') {
        const buffer = new MetricBuffer(tracker);
        for (const p of batch) buffer.add(p);
        await buffer.close();
      } else await tracker.logMetrics(batch);
    },
    check: async () => {
      const stored = (await tracker.getMetrics(runId)).length;
      if (stored !== POINTS) throw new Error(`stored ${stored} of ${POINTS} points`);
    },
  };
}

try {
  for (const how of ['buffer', 'one call']) {
    const loggers = { sqlite: logger(trackers.sqlite, how), postgresql: logger(trackers.postgresql, how) };
    for (const l of Object.values(loggers)) await l.prepare();
    const t = await paired(
      REPS,
      { sqlite: () => loggers.sqlite.log(), postgresql: () => loggers.postgresql.log() },
      async (label) => {
        await loggers[label].check();
        await loggers[label].prepare();
      },
    );
    console.log(`\n${POINTS.toLocaleString('en-US')} points into one run, ${how === 'buffer' ? 'MetricBuffer (what a run records through)' : 'one logMetrics call'}, ${REPS} reps alternating (median, min–max):`);
    for (const [label, ms] of Object.entries(t)) {
      const rate = `${Math.round(POINTS / (median(ms) / 1000)).toLocaleString('en-US')} points/s`;
      console.log(`  ${label.padEnd(11)} ${spread(ms).padEnd(22)} ${rate.padEnd(18)}${label === 'postgresql' ? ratio(ms, t.sqlite, 'SQLite') : '(reference)'}`);
    }
  }
} finally {
  for (const t of Object.values(trackers)) await t.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
