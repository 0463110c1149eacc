// `mlpipe compare runs` over 1,000 runs with 20 final metrics and 2 per-epoch curves (20 points)
// each: the tracker query plus the comparison model plus each renderer, in-process (median of
// BENCH_REPS, default 7), and the whole `mlpipe compare runs --last 1000` process once.
// Goal: query + render under 300 ms (wall time: run it on an otherwise idle machine). Needs `npm run build` (or `npx tsc -p tsconfig.build.json`) first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compareRuns } from '../dist/app/compare/compare-runs.js';
import { renderComparison } from '../dist/render/comparison.js';
import { openTracker } from '../dist/core/tracker/open-tracker.js';
import { EPOCHS, METRICS, seedRuns } from './seed-runs.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-compare-'));

const seedStart = performance.now();
const tracker = await openTracker(dir);
await seedRuns(tracker, RUNS, dir);
const seedMs = performance.now() - seedStart;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timings = { query: [], table: [], markdown: [], csv: [], json: [], total: [] };
for (let i = 0; i < REPS; i++) {
  const a = performance.now();
  const result = await compareRuns(tracker, { last: RUNS, failIf: ['metric_1 < baseline - 0.5'] });
  const b = performance.now();
  renderComparison(result, 'table', { color: false, conditions: result.conditions });
  const c = performance.now();
  renderComparison(result, 'markdown', { conditions: result.conditions });
  const d = performance.now();
  renderComparison(result, 'csv');
  const e = performance.now();
  JSON.stringify(result);
  const f = performance.now();
  timings.query.push(b - a);
  timings.table.push(c - b);
  timings.markdown.push(d - c);
  timings.csv.push(e - d);
  timings.json.push(f - e);
  timings.total.push(c - a);
}
await tracker.close();

const cliStart = performance.now();
const cli = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), 'compare', 'runs', '--last', String(RUNS), '--runs-dir', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
const cliMs = performance.now() - cliStart;
const node = performance.now();
spawnSync(process.execPath, ['-e', '0']);
const nodeMs = performance.now() - node;

const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(`compare: ${RUNS} runs x ${METRICS} metrics + 2 curves x ${EPOCHS} points (seeded in ${fmt(seedMs)}), median of ${REPS}`);
console.log(`  query + model (incl. --fail-if): ${fmt(median(timings.query))}`);
console.log(`  render table:                    ${fmt(median(timings.table))}`);
console.log(`  render markdown:                 ${fmt(median(timings.markdown))}`);
console.log(`  render csv:                      ${fmt(median(timings.csv))}`);
console.log(`  JSON.stringify:                  ${fmt(median(timings.json))}`);
console.log(`  query + table render:            ${fmt(median(timings.total))}  (goal < 300 ms)`);
console.log(`  whole CLI process:               ${fmt(cliMs)} (exit ${cli.status}; node -e 0: ${fmt(nodeMs)})`);
rmSync(dir, { recursive: true, force: true });
