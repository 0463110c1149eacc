#!/usr/bin/env node
// Training throughput (samples/s) of three models on each available TensorFlow.js backend, through
// mlpipe's own model builder and training loop, and the same models in PyTorch (1 thread) when
// `python3 -c 'import torch'` works. Run `npm run build` first.
//
//   node bench/train-throughput.mjs [--backends wasm,cpu,tensorflow,wasm-stock] [--models logreg,mlp,text]
//
// A `-stock` backend trains with TensorFlow.js's own LSTM layer and optimizers (mlpipe's kernels
// that a backend lacks stay registered), to measure what the fused LSTM and in-place updates bring.
// Figures are wall-clock samples/s; the stderr lines also give samples per CPU-second, steadier on a
// busy machine.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { loadTf } from '../dist/ml/backend.js';
import { buildModel, createOptimizer, resolveModel } from '../dist/ml/build-model.js';
import { fitModel } from '../dist/ml/train-loop.js';

// Debian's python3-torch installs for /usr/bin/python3, which may not be the python3 on PATH.
const python = process.env.BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const N = 10_000;
const BATCH = 64;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',') : fallback;
};
const backends = arg('backends', ['tensorflow', 'wasm', 'cpu']);
const child = arg('child', [])[0];
const modelNames = arg('models', ['logreg', 'mlp', 'text']);

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function tabularData() {
  const r = rng(1);
  const x = new Float32Array(N * 20).map(() => r() * 2 - 1);
  const y = new Float32Array(N);
  for (let i = 0; i < N; i++) y[i] = x[i * 20] + x[i * 20 + 1] - x[i * 20 + 2] > 0 ? 1 : 0;
  return { x, xShape: [N, 20], y };
}

function textData() {
  const r = rng(2);
  const x = new Int32Array(N * 20).map(() => 2 + Math.floor(r() * 9998));
  const y = new Float32Array(N);
  for (let i = 0; i < N; i++) y[i] = x.subarray(i * 20, i * 20 + 20).some((t) => t < 1000) ? 1 : 0;
  return { x, xShape: [N, 20], y };
}

const tabularMeta = {
  schemaVersion: 1, task: 'binary', target: 'y', labels: ['0', '1'], inputKind: 'tabular', features: [],
  featureNames: Array.from({ length: 20 }, (_, i) => `f${i}`), splits: {}, source: { file: 'synthetic', rows: N, dropped: 0 },
};
const textMeta = {
  ...tabularMeta, inputKind: 'text', featureNames: [],
  text: { column: 'text', tokenizer: 'whitespace', lowercase: false, vocab: Array.from({ length: 10_000 }, (_, i) => `t${i}`), maxLength: 20, padding: 'post', truncating: 'post' },
};

const models = {
  logreg: { label: 'logistic regression 20→1', meta: tabularMeta, config: 'logistic_regression', data: tabularData },
  mlp: { label: 'MLP 20→64→64→1', meta: tabularMeta, config: { layers: [{ type: 'dense', units: 64 }, { type: 'dense', units: 64 }] }, data: tabularData },
  text: { label: 'Embedding(10000,16)→LSTM(32)→1', meta: textMeta, config: { layers: [{ type: 'embedding', output_dim: 16 }, { type: 'lstm', units: 32 }] }, data: textData },
};

function head(data, n) {
  const row = data.xShape[1];
  return { x: data.x.subarray(0, n * row), xShape: [n, row], y: data.y.subarray(0, n) };
}

async function measure(tf, spec, data, stock, warmOnly) {
  const resolved = resolveModel(spec.config, spec.meta);
  const model = buildModel(tf, resolved, 42, { fused: !stock });
  const optimizer = createOptimizer(tf, { name: 'adam', learning_rate: 0.001 }, { inPlace: !stock });
  const fit = async (n) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await fitModel(tf, model, resolved, head(data, n), undefined, { epochs: 1, batchSize: BATCH, seed: 1, optimizer }, () => {});
    const used = process.cpuUsage(cpu);
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  };
  try {
    const warm = await fit(20 * BATCH);
    if (warmOnly) return undefined;
    const n = warm.seconds * (N / (20 * BATCH)) < 15 ? N : 20 * BATCH;
    if (n === N) await fit(N);
    const runs = [await fit(n), await fit(n)];
    const t = runs.reduce((best, r) => (r.seconds < best.seconds ? r : best));
    return { samplesPerSecond: n / t.seconds, samplesPerCpuSecond: n / t.cpuSeconds, samples: n };
  } finally {
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

/** One backend in this process: every model warmed up first (JIT), then measured. */
async function runBackend(backend) {
  const stock = backend.endsWith('-stock');
  const loaded = await loadTf(backend.replace(/-stock$/, ''));
  const data = Object.fromEntries(modelNames.map((name) => [name, models[name].data()]));
  for (const name of modelNames) await measure(loaded.tf, models[name], data[name], stock, true);
  const out = {};
  for (const name of modelNames) out[name] = await measure(loaded.tf, models[name], data[name], stock, false);
  return out;
}

if (child) {
  try {
    process.stdout.write(JSON.stringify({ results: await runBackend(child) }));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err.message.split('\n')[0] }));
  }
  process.exit(0);
}

const pytorchScript = String.raw`
import json, sys, time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
N, B = 10000, 64
def run(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    def epoch(n):
        perm = torch.randperm(n)
        t = time.perf_counter()
        for i in range(0, n, B):
            idx = perm[i:i + B]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
            loss.backward()
            opt.step()
        return n / (time.perf_counter() - t)
    epoch(4 * B)
    return epoch(N)
class Text(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10000, 16)
        self.lstm = torch.nn.LSTM(16, 32, batch_first=True)
        self.out = torch.nn.Linear(32, 1)
    def forward(self, x):
        _, (h, _) = self.lstm(self.emb(x))
        return self.out(h[-1])
xt = torch.rand(N, 20) * 2 - 1
yt = ((xt[:, 0] + xt[:, 1] - xt[:, 2]) > 0).float()
xs = torch.randint(2, 10000, (N, 20))
ys = (xs < 1000).any(dim=1).float()
out = {
  'logreg': run(torch.nn.Linear(20, 1), xt, yt),
  'mlp': run(torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)), xt, yt),
  'text': run(Text(), xs, ys),
}
print(json.dumps({k: v for k, v in out.items() if k in sys.argv[1].split(',')}))
`;

function pytorch() {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });

  } catch {
    return { error: 'PyTorch not installed (apt-get install python3-torch)' };
  }
  try {
    return { results: JSON.parse(execFileSync(python, ['-c', pytorchScript, modelNames.join(',')], { encoding: 'utf8' })) };
  } catch (err) {
    return { error: `PyTorch run failed: ${err.message.split('\n')[0]}` };
  }
}

const results = {};
const notes = [];
for (const backend of backends) {
  const self = fileURLToPath(import.meta.url);
  const out = JSON.parse(execFileSync(process.execPath, [self, '--child', backend, '--models', modelNames.join(',')], { encoding: 'utf8', maxBuffer: 1 << 20 }));
  if (out.error) {
    notes.push(`${backend}: ${out.error}`);
    continue;
  }
  results[backend] = out.results;
  for (const [name, r] of Object.entries(out.results)) {
    process.stderr.write(`${backend} ${name}: ${Math.round(r.samplesPerSecond)} samples/s, ${Math.round(r.samplesPerCpuSecond)} per CPU-second (${r.samples} samples)\n`);
  }
}
const torch = pytorch();
if (torch.error) notes.push(torch.error);

const columns = [...Object.keys(results), ...(torch.results ? ['pytorch-1t', 'wasm/pytorch'] : [])];
const rows = modelNames.map((name) => {
  const cells = Object.keys(results).map((b) => Math.round(results[b][name].samplesPerSecond).toLocaleString('en-US'));
  if (torch.results) {
    cells.push(Math.round(torch.results[name]).toLocaleString('en-US'));
    cells.push(results.wasm ? (results.wasm[name].samplesPerSecond / torch.results[name]).toFixed(2) : '-');
  }
  return [models[name].label, ...cells];
});
const header = ['samples/s, batch 64, Adam', ...columns];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? ''}`);
console.log(line(header));
for (const r of rows) console.log(line(r));
for (const n of notes) console.log(`note: ${n}`);
