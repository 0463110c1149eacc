// What the prediction log costs `mlpipe serve`: the same iris model served twice, with the log (the
// default) and with --no-log, loaded by autocannon in alternating rounds (log, no-log, then no-log,
// log, …) so the machine's load drifts over both alike. Prints per case the median requests/s and
// p99 latency with min–max over the rounds, and the ratio to --no-log measured in the same run.
// Run `npm run build` first. BENCH_REPS (default 5), BENCH_DURATION (s per round, default 3),
// BENCH_CONNECTIONS (default 10).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median } from './paired.mjs';
import { startServe } from './serve-process.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'run.js');
const reps = Number(process.env.BENCH_REPS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-serve-log-'));
const runsDir = join(dir, 'runs');
const env = { ...process.env, CI: 'true', MLPIPE_RUNS_DIR: runsDir, MLPIPE_BACKEND: 'cpu' };

cpSync(join(root, 'pipelines', 'iris'), join(dir, 'iris'), { recursive: true });
const trained = spawnSync(process.execPath, [cli, 'run', 'iris/pipeline.yaml', '--set', 'params.epochs=20', '--set', 'deploy.gate=accuracy >= 0', '--json'], { cwd: dir, env, encoding: 'utf8' });
if (trained.status !== 0) throw new Error(`iris: exit ${trained.status}\n${trained.stderr}`);

function startServer(...args) {
  return startServe(cli, ['iris@latest', '--port', '0', '--max-instances', '1000', ...args], { cwd: dir, env });
}

async function load(url, instances) {
  const r = await autocannon({ url: `${url}/predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }), connections, duration });
  if (r.non2xx + r.errors + r.timeouts > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

const rows = readFileSync(join(root, 'pipelines/iris/data/iris.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const [sepal_length, sepal_width, petal_length, petal_width] = l.split(',').map(Number);
  return { sepal_length, sepal_width, petal_length, petal_width };
});
const batch = (n) => Array.from({ length: n }, (_, i) => rows[(i * 7) % rows.length]);
const range = (xs, digits = 0) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

const servers = { log: await startServer(), 'no-log': await startServer('--no-log') };
console.log(`mlpipe serve, prediction log on vs --no-log: ${reps} alternating rounds of ${duration}s, ${connections} connections, ${availableParallelism()} cores`);
console.log('case                         req/s median (min–max)   p99 ms median (min–max)   vs --no-log (req/s)');
try {
  for (const size of [1, 100]) {
    const instances = batch(size);
    for (const s of Object.values(servers)) await load(s.url, instances); // warm-up round, not counted
    const samples = { log: [], 'no-log': [] };
    const labels = Object.keys(servers);
    for (let rep = 0; rep < reps; rep++) for (let i = 0; i < labels.length; i++) {
      const label = labels[(i + rep) % labels.length];
      samples[label].push(await load(servers[label].url, instances));
    }
    for (const label of ['no-log', 'log']) {
      const rps = samples[label].map((s) => s.rps);
      const p99 = samples[label].map((s) => s.p99);
      const vs = label === 'log' ? `${(median(rps) / median(samples['no-log'].map((s) => s.rps))).toFixed(2)}×` : 'reference';
      console.log(`${`iris ${size === 1 ? 'single row' : `${size}-row batch`}, ${label}`.padEnd(28)} ${range(rps).padEnd(24)} ${range(p99, 1).padEnd(25)} ${vs}`);
    }
  }
} finally {
  for (const s of Object.values(servers)) await s.stop();
}
console.log(`prediction log after the run: ${(statSync(join(runsDir, 'monitor', 'iris.sqlite')).size / 1e6).toFixed(1)} MB (plus its WAL)`);
rmSync(dir, { recursive: true, force: true });
