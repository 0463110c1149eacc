// `mlpipe predict` of N iris-like rows (default 1,000,000; BENCH_ROWS) as a whole process, CSV in and
// CSV out (BENCH_FORMAT=parquet: Parquet out), alternating with a pandas + numpy reference doing the
// same work (read the CSV, z-score, a 4-16-3 MLP forward pass, softmax, write the rows with their
// predictions) and, when BENCH_BEFORE names another checkout's bin/mlpipe.cjs, that build.
// Reports medians (min–max) of wall and CPU (user+sys) time, rows/s and peak RSS, and checks that
// the two builds write byte-identical files.
//   node bench/predict-rows.mjs            # needs a registered iris model: run pipelines/iris first (BENCH_PROJECT: its folder)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alternate, stats, timeProcessRss } from './paired.mjs';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const reps = Number(process.env.BENCH_REPS ?? 5);
const project = resolve(process.env.BENCH_PROJECT ?? 'pipelines/iris');
const python = process.env.BENCH_PYTHON ?? 'python3';
const format = process.env.BENCH_FORMAT === 'parquet' ? 'parquet' : 'csv';
const dir = mkdtempSync(join(tmpdir(), 'predict-rows-'));
const input = join(dir, 'rows.csv');

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const cell = (lo, hi) => (lo + random() * (hi - lo)).toFixed(1);
const lines = ['sepal_length,sepal_width,petal_length,petal_width'];
for (let i = 0; i < rows; i++) lines.push(`${cell(4, 8)},${cell(2, 4.5)},${cell(1, 7)},${cell(0.1, 2.5)}`);
writeFileSync(input, `${lines.join('\n')}\n`);
lines.length = 0;

const reference = `
import sys, numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1])
x = df.to_numpy(dtype=np.float32)
x = (x - x.mean(0)) / x.std(0)
rng = np.random.default_rng(0)
h = np.maximum(x @ rng.standard_normal((4, 16), dtype=np.float32), 0)
z = h @ rng.standard_normal((16, 3), dtype=np.float32)
p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
labels = np.array(['setosa', 'versicolor', 'virginica'])
df.insert(0, 'row', np.arange(1, len(df) + 1))
df['predicted'] = labels[p.argmax(1)]
for j, l in enumerate(labels): df['p_' + l] = p[:, j]
df.to_csv(sys.argv[2], index=False, float_format='%.7g')
`;
writeFileSync(join(dir, 'reference.py'), reference);

const measure = (cmd, args) => timeProcessRss(cmd, args, { cwd: project, maxBuffer: 1 << 26 });

const out = (name) => join(dir, `${name}.${format}`);
const mlpipe = (bin, name) => () => measure(process.execPath, [bin, 'predict', 'iris@latest', '--input', input, '--output', out(name)]);
const variants = {
  mlpipe: mlpipe(resolve('bin/mlpipe.cjs'), 'after'),
  ...(process.env.BENCH_BEFORE ? { before: mlpipe(resolve(process.env.BENCH_BEFORE), 'before') } : {}),
  'pandas+numpy': () => measure(python, [join(dir, 'reference.py'), input, join(dir, 'reference.csv')]),
};
const samples = alternate(reps, variants);

console.log(`predict ${rows.toLocaleString('en-US')} iris-like rows, csv in, ${format} out, ${reps} alternating reps: median (min–max)`);
const span = (xs, unit, digits = 0) => {
  const s = stats(xs);
  return `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
};
const ref = stats(samples['pandas+numpy'].map((s) => s.cpu)).median;
for (const [name, runs] of Object.entries(samples)) {
  const cpu = runs.map((r) => r.cpu);
  console.log(
    `${name.padEnd(13)} wall ${span(runs.map((r) => r.ms / 1000), 's', 2)}  cpu ${span(cpu.map((c) => c / 1000), 's', 2)}` +
      `  ${span(runs.map((r) => rows / (r.ms / 1000) / 1000), 'k rows/s wall')}  ${span(cpu.map((c) => rows / (c / 1000) / 1000), 'k rows/s cpu')}` +
      `  peak RSS ${span(runs.map((r) => r.mib), 'MiB')}  cpu ${(stats(cpu).median / ref).toFixed(2)}× pandas`,
  );
}
if (process.env.BENCH_BEFORE) {
  const same = readFileSync(out('after')).equals(readFileSync(out('before')));
  console.log(`before and after outputs ${same ? 'are byte-identical' : 'DIFFER'} (${out('after')}, ${out('before')})`);
}
