// `mlpipe compare runs --last 50` over BENCH_RUNS (default 1,000) runs on a PostgreSQL tracker (a
// database of its own, see postgres-db.mjs) next to the same runs on the SQLite tracker: in-process
// (compareRuns + the table renderer, the tracker open) and as the whole CLI process, BENCH_REPS
// times each (default 7), alternating; median with min–max and PostgreSQL's ratio to SQLite.
// Issue 11's goal: under 0.5 s on PostgreSQL. Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compareRuns } from '../dist/app/compare/compare-runs.js';
import { renderComparison } from '../dist/render/comparison.js';
import { openTracker } from '../dist/core/tracker/open-tracker.js';
import { paired, ratio, spread } from './paired.mjs';
import { benchDatabase } from './postgres-db.mjs';
import { seedRuns } from './seed-runs.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const LAST = Number(process.env.BENCH_LAST ?? 50);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const cli = join(import.meta.dirname, '..', 'bin', 'run.js');
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-compare-trackers-'));
const db = await benchDatabase('compare');
const settings = { sqlite: join(dir, 'tracker.db'), postgresql: db.url };
const trackers = {};

const compareCli = (tracker) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'compare', 'runs', '--last', String(LAST), '--runs-dir', dir, '--tracker', tracker], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 && out.includes('r-') ? resolve() : reject(new Error(`compare exited ${code}: ${err}`))));
  });

try {
  for (const [label, setting] of Object.entries(settings)) {
    const start = performance.now();
    trackers[label] = await openTracker(dir, { tracker: setting });
    await seedRuns(trackers[label], RUNS, dir);
    console.log(`seeded ${RUNS} runs into ${label} in ${(performance.now() - start).toFixed(0)} ms`);
  }
  const inProcess = (label) => async () => {
    const result = await compareRuns(trackers[label], { last: LAST });
    if (result.runs.length !== LAST) throw new Error(`${label}: compared ${result.runs.length} runs`);
    renderComparison(result, 'table', { color: false });
  };
  const local = await paired(REPS, { sqlite: inProcess('sqlite'), postgresql: inProcess('postgresql') });
  const whole = await paired(REPS, { sqlite: () => compareCli(settings.sqlite), postgresql: () => compareCli(settings.postgresql) });
  console.log(`\ncompare runs --last ${LAST} over ${RUNS} runs (20 metrics, 2 curves of 20 points each), ${REPS} reps alternating (median, min–max):`);
  for (const [what, t] of [['query + model + table (in-process)', local], ['whole CLI process', whole]]) {
    console.log(`  ${what}`);
    console.log(`    sqlite      ${spread(t.sqlite).padEnd(22)} (reference)`);
    console.log(`    postgresql  ${spread(t.postgresql).padEnd(22)} ${ratio(t.postgresql, t.sqlite, 'SQLite')}`);
  }
} finally {
  for (const t of Object.values(trackers)) await t.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
