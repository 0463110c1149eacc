// Load test of `mlpipe serve` with autocannon: the iris tabular model and the sms-spam text model
// (embedding → LSTM), single-row requests and 100-row batches. Prints requests/s, rows/s and p50/p99
// latency per case. Trains and registers both models in a temp folder first (about half a minute).
// Run `npm run build` first. BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 10),
// BENCH_BACKEND (serving backend, default auto: tfjs-node when installed, else wasm), BENCH_RUNS_DIR (reuse a runs folder that
// already holds iris and sms-spam versions).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startServe } from './serve-process.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'run.js');
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const backend = process.env.BENCH_BACKEND ?? 'auto';

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-serve-'));
const runsDir = process.env.BENCH_RUNS_DIR ?? join(dir, 'runs');
const env = { ...process.env, CI: 'true', MLPIPE_RUNS_DIR: runsDir };

function register(pipeline) {
  cpSync(join(root, 'pipelines', pipeline), join(dir, pipeline), { recursive: true });
  const r = spawnSync(process.execPath, [cli, 'run', `${pipeline}/pipeline.yaml`, '--backend', 'wasm', '--set', 'deploy.gate=accuracy >= 0', '--json'], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${pipeline}: exit ${r.status}\n${r.stderr}`);
}

function startServer(model) {
  return startServe(cli, [`${model}@latest`, '--port', '0', '--backend', backend, '--max-instances', '1000'], { cwd: dir, env });
}

async function load(url, instances, seconds) {
  const r = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances }),
    connections,
    duration: seconds,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.requests.total };
}

const irisRows = readFileSync(join(root, 'pipelines/iris/data/iris.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const [sepal_length, sepal_width, petal_length, petal_width] = l.split(',').map(Number);
  return { sepal_length, sepal_width, petal_length, petal_width };
});
const texts = readFileSync(join(root, 'pipelines/sms-spam/data/sms.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.slice(l.indexOf('\t') + 1));
const batch = (rows, n) => Array.from({ length: n }, (_, i) => rows[(i * 7) % rows.length]);

if (!process.env.BENCH_RUNS_DIR) {
  register('iris');
  register('sms-spam');
}
console.log(`mlpipe serve under autocannon: ${connections} connections, ${duration}s per case, backend ${backend}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'})`);
console.log('case                      req/s    rows/s   p50 ms  p99 ms  non-2xx');
for (const [model, rows] of [['iris', irisRows], ['sms-spam', texts]]) {
  const server = await startServer(model);
  try {
    for (const size of [1, 100]) {
      const instances = batch(rows, size);
      await load(server.url, instances, 2);
      const r = await load(server.url, instances, duration);
      const name = `${model} ${size === 1 ? 'single row' : `${size}-row batch`}`;
      console.log(`${name.padEnd(24)} ${r.rps.toFixed(0).padStart(7)} ${(r.rps * size).toFixed(0).padStart(9)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(7)} ${String(r.non2xx + r.errors).padStart(8)}`);
    }
  } finally {
    await server.stop();
  }
}
console.log('target: iris single row >= 3000 req/s with p99 < 20 ms');
if (!process.env.BENCH_RUNS_DIR) rmSync(dir, { recursive: true, force: true });
