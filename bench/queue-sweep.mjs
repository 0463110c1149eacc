// A 12-point sweep (shell gen → preprocess → train per lr → shell score per point, each score
// ~BENCH_WORK_MS of CPU) run as a user runs it: `mlpipe run --sweep … --jobs 1` against
// `--executor queue` on three warm `mlpipe worker`s (the reference, local `--jobs 2`, beside them),
// alternated BENCH_REPS (default 3) times, each repetition with a fresh salt so nothing is cached.
// Then the per-stage overhead of the queue, with the coordinator in this process: a chain of 10
// tiny shell stages, per stage enqueue → start on a worker → result at the coordinator → recorded,
// p50/p99 in ms, next to the same stages' start → recorded time in a local run. Needs Redis (MLPIPE_BENCH_REDIS_URL, default
// redis://127.0.0.1:6379) and `npm run build`. Wall times: run it on an otherwise idle machine.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { runPipeline } from '../dist/core/run/run-pipeline.js';
import { loadSpec } from '../dist/core/spec/load-spec.js';
import { QueueDispatcher } from '../dist/core/queue/queue-dispatcher.js';
import { openLocalStore } from '../dist/core/store/local-store.js';
import { openRemoteStore } from '../dist/core/store/open-remote.js';
import { reasonLine } from '../dist/render/reasons.js';
import { stageKinds } from '../dist/stages/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'run.js');
const url = process.env.MLPIPE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REPS = Number(process.env.BENCH_REPS ?? 3);
const WORK_MS = Number(process.env.BENCH_WORK_MS ?? 400);
const WORKERS = 3;
const CHAIN = 10;
const sweep = ['--sweep', 'params.lr=0.01,0.1', '--sweep', 'params.x=1,2,3,4,5,6'];

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-queue-'));
const project = join(dir, 'project');
const remote = join(dir, 'remote');
const prefix = `mlpipe-bench-${process.pid}`;
mkdirSync(project);
mkdirSync(remote);
writeFileSync(join(project, 'pipeline.yaml'), `name: queue-bench
params:
  lr: 0.01
  x: 1
  salt: 0
stages:
  gen:
    run: node gen.mjs \${params.salt}
    deps: [gen.mjs]
    outs: [out/data.csv]
  prepare:
    uses: preprocess
    with:
      input: \${stages.gen.outputs.out/data.csv}
      target: label
      split: { test: 0.2, validation: 0.2, seed: 1, stratify: true }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: logistic_regression }
      optimizer: { name: adam, learning_rate: "\${params.lr}" }
      epochs: 5
      seed: 7
  score:
    run: node score.mjs \${params.x} \${stages.train.outputs.model}
    deps: [score.mjs]
    outs: [out/score.json]
    metrics: out/score.json
`);
writeFileSync(join(project, 'gen.mjs'), `import { mkdirSync, writeFileSync } from 'node:fs';
const salt = Number(process.argv[2]);
const rows = ['a,b,label'];
for (let i = 0; i < 300; i++) rows.push(\`\${(i * 7 + salt) % 13},\${(i * 5) % 11},\${i % 3 === 0 ? 'yes' : 'no'}\`);
mkdirSync('out', { recursive: true });
writeFileSync('out/data.csv', rows.join('\\n') + '\\n');
`);
writeFileSync(join(project, 'score.mjs'), `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [x, model] = process.argv.slice(2);
const bytes = readFileSync(join(model, 'weights.bin'));
let acc = 0;
const until = Date.now() + ${WORK_MS};
while (Date.now() < until) for (const b of bytes) acc = (acc * 31 + b + Number(x)) % 1000003;
mkdirSync('out', { recursive: true });
writeFileSync('out/score.json', JSON.stringify({ x: Number(x), acc }));
`);

const chain = join(dir, 'chain');
mkdirSync(chain);
let chainSpec = 'name: queue-chain\nparams:\n  salt: 0\nstages:\n';
for (let k = 0; k < CHAIN; k++) {
  const read = k === 0 ? 'echo ${params.salt}' : `cat \${stages.s${k - 1}.outputs.out/s${k - 1}.txt}`;
  chainSpec += `  s${k}:\n    run: mkdir -p out && ${read} > out/s${k}.txt && echo ${k} >> out/s${k}.txt\n    outs: [out/s${k}.txt]\n`;
}
writeFileSync(join(chain, 'pipeline.yaml'), chainSpec);

const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
const queueFlags = ['--queue', url, '--queue-prefix', prefix, '--remote', remote];

function start(args, cwd, extra = {}) {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

async function timed(args, cwd) {
  const t = performance.now();
  const p = start(args, cwd);
  const code = await p.exited;
  const ms = performance.now() - t;
  if (code !== 0) throw new Error(`mlpipe ${args.join(' ')} exited ${code}:\n${p.err().slice(-3000)}`);
  const summary = JSON.parse(p.out());
  if (summary.points.some((pt) => pt.status !== 'completed')) throw new Error(`a point did not complete: ${p.out()}`);
  return ms;
}

const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => {});
try {
  await probe.connect();
  await probe.ping();
} catch (err) {
  console.error(`Redis at ${url} does not answer (${err.message}); set MLPIPE_BENCH_REDIS_URL`);
  process.exit(2);
}

const workers = [];
for (let i = 1; i <= WORKERS; i++) {
  const home = join(dir, `worker-${i}`);
  mkdirSync(home);
  workers.push(start(['worker', ...queueFlags, '--name', `bench-${i}`], home));
}
const deadline = Date.now() + 120_000;
while (!workers.every((w) => w.err().includes('serving'))) {
  if (Date.now() > deadline) throw new Error(`workers did not start:\n${workers.map((w) => w.err()).join('\n')}`);
  await new Promise((r) => setTimeout(r, 50));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
let salt = 0;
const fresh = () => {
  const runs = join(dir, `runs-${++salt}`);
  return { set: ['--set', `params.salt=${salt}`], runs: ['--runs-dir', runs] };
};

try {
  // Warm-up: each worker's stage process loads TensorFlow.js once, as a long-lived worker's has.
  const warm = fresh();
  await timed(['run', 'pipeline.yaml', ...sweep, ...warm.set, ...warm.runs, '--executor', 'queue', ...queueFlags, '--json'], project);

  const wall = { local1: [], local2: [], queue: [] };
  for (let i = 0; i < REPS; i++) {
    for (const [name, extra] of [
      ['local1', ['--jobs', '1']],
      ['queue', ['--executor', 'queue', ...queueFlags]],
      ['local2', ['--jobs', '2']],
    ]) {
      const f = fresh();
      wall[name].push(await timed(['run', 'pipeline.yaml', ...sweep, ...f.set, ...f.runs, ...extra, '--json'], project));
    }
  }
  const s2 = (ms) => (ms / 1000).toFixed(2);
  const row = (label, xs) => `  ${label.padEnd(36)} ${s2(median(xs)).padStart(6)} s  (${s2(Math.min(...xs))}–${s2(Math.max(...xs))} s)`;
  console.log(`12-point sweep, 16 stage executions (score ≈ ${WORK_MS} ms CPU each), ${availableParallelism()} cores; median of ${REPS} (min–max), whole mlpipe processes`);
  console.log(row('local, --jobs 1 (reference)', wall.local1));
  console.log(row('local, --jobs 2', wall.local2));
  console.log(row(`--executor queue, ${WORKERS} workers`, wall.queue));
  console.log(`  speed-up of ${WORKERS} workers over 1 local job: ${(median(wall.local1) / median(wall.queue)).toFixed(2)}×; over local --jobs 2: ${(median(wall.local2) / median(wall.queue)).toFixed(2)}×`);

  // Overhead per stage, with the coordinator in this process: a chain of CHAIN tiny shell stages, so
  // each job is enqueued when the workers are idle (in the sweep above, most jobs wait for a free
  // worker, which is not overhead). The dispatcher's timings plus the time each stage was recorded
  // (its stage-finished event), against the same chain run locally.
  const chainRun = async (dispatcher, remoteStore) => {
    const f = fresh();
    const loaded = await loadSpec(join(chain, 'pipeline.yaml'), { kinds: stageKinds, set: [`params.salt=${salt}`] });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const events = [];
    const summary = await runPipeline({
      spec: loaded.spec,
      runsDir: f.runs[1],
      jobs: dispatcher ? 64 : availableParallelism(),
      backend: 'auto',
      explain: reasonLine,
      signal: new AbortController().signal,
      observers: [{ onEvent: (e) => (e.type === 'stage-started' || e.type === 'stage-finished') && events.push({ stage: e.stage, type: e.type, at: Date.now() }) }],
      dispatcher,
      remote: remoteStore,
    });
    if (summary.exitCode !== 0 || summary.stages.some((st) => st.cached)) throw new Error(`chain run: ${JSON.stringify(summary.stages)}`);
    return (stage, type) => events.find((e) => e.stage === stage && e.type === type).at;
  };
  const pick = { toStart: [], onWorker: [], back: [], record: [], overhead: [], total: [], local: [] };
  const remoteStore = await openRemoteStore(remote);
  const dispatcher = await QueueDispatcher.open({ url, prefix }, openLocalStore(join(dir, 'overhead')), remoteStore);
  try {
    await chainRun(dispatcher, remoteStore); // warm-up
    dispatcher.timings.length = 0;
    for (let i = 0; i < REPS; i++) {
      const at = await chainRun(dispatcher, remoteStore);
      for (const t of dispatcher.timings.splice(0)) {
        const recorded = at(t.stage, 'stage-finished');
        pick.toStart.push(t.startedAt - t.enqueuedAt);
        pick.onWorker.push(t.finishedAt - t.startedAt);
        pick.back.push(t.resultAt - t.finishedAt);
        pick.record.push(recorded - t.resultAt);
        pick.overhead.push(t.startedAt - t.enqueuedAt + (recorded - t.finishedAt));
        pick.total.push(recorded - at(t.stage, 'stage-started'));
      }
      const local = await chainRun(undefined, undefined);
      for (let k = 0; k < CHAIN; k++) pick.local.push(local(`s${k}`, 'stage-finished') - local(`s${k}`, 'stage-started'));
    }
  } finally {
    await dispatcher.close();
  }
  const line = (label, xs) => `  ${label.padEnd(50)} p50 ${median(xs).toFixed(0).padStart(5)} ms   p99 ${pct(xs, 99).toFixed(0).padStart(5)} ms`;
  console.log(`\nper-stage overhead of the queue: a chain of ${CHAIN} tiny shell stages, ${REPS} runs alternating with local ones (${pick.total.length} stages each)`);
  console.log(line("enqueue → start in a worker's stage process", pick.toStart));
  console.log(line('start → outputs pushed (the stage, on the worker)', pick.onWorker));
  console.log(line('outputs pushed → result at the coordinator', pick.back));
  console.log(line('result → recorded (outputs restored here)', pick.record));
  console.log(line('overhead: enqueue→start + pushed→recorded', pick.overhead) + '   target p50 < 100 ms');
  console.log(line('stage started → recorded, --executor queue', pick.total));
  console.log(line('stage started → recorded, local (reference)', pick.local));
  console.log(`  queue / local per stage (p50): ${(median(pick.total) / median(pick.local)).toFixed(2)}×`);
} finally {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  let cursor = '0';
  do {
    const [next, keys] = await probe.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await probe.del(...keys);
  } while (cursor !== '0');
  probe.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
