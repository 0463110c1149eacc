#!/usr/bin/env node
// Training throughput (samples/s, one epoch of batch 64, Adam) of five models through mlpipe's own
// model builder and training loop, against the same models in PyTorch (1 thread) when
// `python3 -c 'import torch'` works. The engines alternate: each round runs every backend in a
// fresh process, then PyTorch, so a busy moment hits both; the table shows medians over the rounds
// with min–max; the ratios to PyTorch are of the medians, with the min–max of the per-round ratios. Run `npm run build` first.
//
// `--baseline DIR` adds the engine `wasm-baseline`: the wasm backend of another build's dist/ folder
// (e.g. a worktree of origin/main), alternated with this build's, to pair before/after in one run.
//
//   node bench/train-throughput.mjs [--rounds 3] [--backends wasm,cpu,tensorflow,wasm-stock] [--models logreg,mlp,text,textcnn,cnn2d] [--clock wall|cpu] [--warmup 10]
//
// `--warmup N`: batches each engine trains, untimed, before the measured epoch (default 10).
//
// `--clock cpu` times each epoch by the CPU time of its process (Node: process.cpuUsage, all its
// threads; Python: time.process_time) instead of the wall clock: on a shared machine whose load
// average is above its core count, the wall clock mostly measures how often each process was scheduled.
//
// A `-stock` backend trains with TensorFlow.js's own LSTM layer and optimizers (mlpipe's kernels
// that a backend lacks stay registered), to measure what the fused LSTM and in-place updates bring.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';

// Debian's python3-torch installs for /usr/bin/python3, which may not be the python3 on PATH.
const python = process.env.BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const BATCH = 64;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',') : fallback;
};
const backends = arg('backends', ['wasm']);
if (arg('baseline', []).length > 0) backends.push('wasm-baseline');
const child = arg('child', [])[0];
const modelNames = arg('models', ['logreg', 'mlp', 'text', 'textcnn', 'cnn2d']);
const rounds = Number(arg('rounds', ['3'])[0]);
// Batches trained (untimed) before the measured epoch, in both engines: JIT compilation happens in the
// first steps of a Node process (PyTorch has none), so a short warm-up weighs it into the figure.
const warmup = Number(arg('warmup', ['10'])[0]);
const baseline = arg('baseline', [])[0];
const dist = arg('dist', [new URL('../dist/', import.meta.url).pathname])[0];
const { loadTf } = await import(pathToFileURL(`${dist}/ml/backend.js`).href);
const { buildModel, createOptimizer, resolveModel } = await import(pathToFileURL(`${dist}/ml/build-model.js`).href);
const { fitModel } = await import(pathToFileURL(`${dist}/ml/train-loop.js`).href);
const clock = arg('clock', ['wall'])[0];
if (clock !== 'wall' && clock !== 'cpu') throw new Error(`--clock ${clock}: expected wall or cpu`);
/** Seconds on the chosen clock. */
const now = clock === 'cpu' ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; } : () => performance.now() / 1000;

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function tabularData(n) {
  const r = rng(1);
  const x = new Float32Array(n * 20).map(() => r() * 2 - 1);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i * 20] + x[i * 20 + 1] - x[i * 20 + 2] > 0 ? 1 : 0;
  return { x, xShape: [n, 20], y };
}

function textData(n, length) {
  const r = rng(2);
  const x = new Int32Array(n * length).map(() => 2 + Math.floor(r() * 9998));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = x.subarray(i * length, (i + 1) * length).some((t) => t < 1000) ? 1 : 0;
  return { x, xShape: [n, length], y };
}

function imageData(n) {
  const r = rng(3);
  const x = new Float32Array(n * 28 * 28).map(() => r());
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i * 784 + 400] > 0.5 ? 1 : 0;
  return { x, xShape: [n, 28, 28, 1], y };
}

const tabularMeta = {
  schemaVersion: 1, task: 'binary', target: 'y', labels: ['0', '1'], inputKind: 'tabular', features: [],
  featureNames: Array.from({ length: 20 }, (_, i) => `f${i}`), splits: {}, source: { file: 'synthetic', rows: 0, dropped: 0 },
};
const textMeta = (maxLength) => ({
  ...tabularMeta, inputKind: 'text', featureNames: [],
  text: { column: 'text', tokenizer: 'whitespace', lowercase: false, vocab: Array.from({ length: 10_000 }, (_, i) => `t${i}`), maxLength, padding: 'post', truncating: 'post' },
});
const imageMeta = { ...tabularMeta, inputKind: 'image', featureNames: [], image: { column: 'image', width: 28, height: 28, channels: 1, fit: 'fill' } };

/** Each model: its mlpipe config, data, and sample count per measured epoch. */
const models = {
  logreg: { label: 'logistic regression 20→1', meta: tabularMeta, config: 'logistic_regression', data: () => tabularData(10_000) },
  mlp: { label: 'MLP 20→64→64→1', meta: tabularMeta, config: { layers: [{ type: 'dense', units: 64 }, { type: 'dense', units: 64 }] }, data: () => tabularData(10_000) },
  text: { label: 'Embedding(10000,16)→LSTM(32)→1', meta: textMeta(20), config: { layers: [{ type: 'embedding', output_dim: 16 }, { type: 'lstm', units: 32 }] }, data: () => textData(10_000, 20) },
  textcnn: {
    label: 'text CNN: Emb(10000,16)→Conv1D(64,k3)→GMP→1, len 64',
    meta: textMeta(64),
    config: { layers: [{ type: 'embedding', output_dim: 16 }, { type: 'conv1d', filters: 64, kernel_size: 3 }, { type: 'global_max_pooling1d' }] },
    data: () => textData(4_000, 64),
  },
  cnn2d: {
    label: 'image CNN 28×28: Conv2D(8,3)→MaxPool→Conv2D(16,3)→MaxPool→1',
    meta: imageMeta,
    config: { layers: [{ type: 'conv2d', filters: 8, kernel_size: 3 }, { type: 'max_pooling2d' }, { type: 'conv2d', filters: 16, kernel_size: 3 }, { type: 'max_pooling2d' }, { type: 'flatten' }] },
    data: () => imageData(2_000),
  },
};

function head(data, n) {
  const row = data.xShape.slice(1);
  const size = row.reduce((a, b) => a * b, 1);
  return { x: data.x.subarray(0, n * size), xShape: [n, ...row], y: data.y.subarray(0, n) };
}

async function measure(tf, spec, data, stock) {
  const resolved = resolveModel(spec.config, { ...spec.meta, splits: { train: { n: data.y.length, xShape: data.xShape, xDtype: 'float32', file: '' } } });
  const model = buildModel(tf, resolved, 42, { fused: !stock });
  const optimizer = createOptimizer(tf, { name: 'adam', learning_rate: 0.001 }, { inPlace: !stock });
  const fit = async (n) => {
    const started = now();
    await fitModel(tf, model, resolved, head(data, n), undefined, { epochs: 1, batchSize: BATCH, seed: 1, optimizer }, () => {});
    return n / (now() - started);
  };
  try {
    for (let done = 0; done < warmup; done += data.y.length / BATCH) await fit(Math.min(warmup - done, data.y.length / BATCH) * BATCH);
    return await fit(data.y.length);
  } finally {
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

if (child) {
  try {
    const stock = child.endsWith('-stock');
    const loaded = await loadTf(child.replace(/-(stock|baseline)$/, ''));
    const out = {};
    for (const name of modelNames) out[name] = await measure(loaded.tf, models[name], models[name].data(), stock);
    process.stdout.write(JSON.stringify({ results: out }));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err.message.split('\n')[0] }));
  }
  process.exit(0);
}

const pytorchScript = String.raw`
import json, sys, time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
B = 64
now = time.process_time if sys.argv[2] == 'cpu' else time.perf_counter
def run(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    def epoch(n):
        perm = torch.randperm(n)
        t = now()
        for i in range(0, n, B):
            idx = perm[i:i + B]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
            loss.backward()
            opt.step()
        return n / (now() - t)
    warmup = int(sys.argv[3])
    while warmup > 0:
        epoch(min(warmup, len(y) // B) * B)
        warmup -= len(y) // B
    return epoch(len(y))
class Text(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10000, 16)
        self.lstm = torch.nn.LSTM(16, 32, batch_first=True)
        self.out = torch.nn.Linear(32, 1)
    def forward(self, x):
        _, (h, _) = self.lstm(self.emb(x))
        return self.out(h[-1])
class TextCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10000, 16)
        self.conv = torch.nn.Conv1d(16, 64, 3)
        self.out = torch.nn.Linear(64, 1)
    def forward(self, x):
        h = torch.relu(self.conv(self.emb(x).transpose(1, 2)))
        return self.out(h.max(dim=2).values)
def cnn2d():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16 * 5 * 5, 1))
wanted = sys.argv[1].split(',')
out = {}
def tab():
    x = torch.rand(10000, 20) * 2 - 1
    return x, ((x[:, 0] + x[:, 1] - x[:, 2]) > 0).float()
if 'logreg' in wanted: out['logreg'] = run(torch.nn.Linear(20, 1), *tab())
if 'mlp' in wanted: out['mlp'] = run(torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)), *tab())
if 'text' in wanted:
    xs = torch.randint(2, 10000, (10000, 20))
    out['text'] = run(Text(), xs, (xs < 1000).any(dim=1).float())
if 'textcnn' in wanted:
    xs = torch.randint(2, 10000, (4000, 64))
    out['textcnn'] = run(TextCnn(), xs, (xs < 1000).any(dim=1).float())
if 'cnn2d' in wanted:
    xi = torch.rand(2000, 1, 28, 28)
    out['cnn2d'] = run(cnn2d(), xi, (xi[:, 0, 14, 8] > 0.5).float())
print(json.dumps(out))
`;

function pytorch() {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return { error: 'PyTorch not installed (apt-get install python3-torch)' };
  }
  try {
    return { results: JSON.parse(execFileSync(python, ['-c', pytorchScript, modelNames.join(','), clock, String(warmup)], { encoding: 'utf8' })) };
  } catch (err) {
    return { error: `PyTorch run failed: ${err.message.split('\n')[0]}` };
  }
}

const self = fileURLToPath(import.meta.url);
const samples = {};
const notes = new Set();
const add = (engine, name, value) => ((samples[engine] ??= {})[name] ??= []).push(value);
for (let round = 1; round <= rounds; round++) {
  for (const backend of backends) {
    const from = backend === 'wasm-baseline' ? ['--dist', baseline] : [];
    const out = JSON.parse(execFileSync(process.execPath, [self, '--child', backend, '--models', modelNames.join(','), '--clock', clock, '--warmup', String(warmup), ...from], { encoding: 'utf8', maxBuffer: 1 << 20 }));
    if (out.error) notes.add(`${backend}: ${out.error}`);
    else for (const [name, v] of Object.entries(out.results)) add(backend, name, v);
  }
  const torch = pytorch();
  if (torch.error) notes.add(torch.error);
  else for (const [name, v] of Object.entries(torch.results)) add('pytorch-1t', name, v);
  process.stderr.write(`round ${round}/${rounds} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (v) => Math.round(v).toLocaleString('en-US');
const cell = (xs) => (xs?.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '-');
/** Ratio of medians, then the min–max of the per-round ratios (each round ran both engines; when every round has both). */
const ratioCell = (xs, refs) => {
  if (!xs?.length || !refs?.length) return '-';
  const ratio = (median(xs) / median(refs)).toFixed(2);
  if (xs.length !== refs.length) return ratio;
  const perRound = xs.map((x, i) => x / refs[i]);
  return `${ratio} (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
};
const engines = Object.keys(samples);
const reference = samples['pytorch-1t'];
const header = ['samples/s, batch 64, Adam: median (min–max)', ...engines, ...(reference ? engines.filter((e) => e !== 'pytorch-1t').map((e) => `${e}/pytorch`) : [])];
const rows = modelNames.map((name) => [
  models[name].label,
  ...engines.map((e) => cell(samples[e][name])),
  ...(reference ? engines.filter((e) => e !== 'pytorch-1t').map((e) => ratioCell(samples[e][name], reference[name])) : []),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? ''}; ${rounds} rounds, engines alternated each round; ${clock} clock; ${warmup} warm-up batches; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(line(header));
for (const r of rows) console.log(line(r));
for (const n of notes) console.log(`note: ${n}`);
