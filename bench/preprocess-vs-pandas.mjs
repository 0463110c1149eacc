// Preprocess of a generated table (16 numeric columns, 3 categorical, a 3-class label) as whole
// processes: `mlpipe run --force` of a preprocess-only pipeline (the DuckDB engine path) against a
// pandas + scikit-learn script doing the same work (read, stratified train/validation/test split,
// z-score fitted on train, one-hot, float32 files), alternated BENCH_REPS times (default 3) in one
// run; medians with min–max of wall time and of peak RSS (GNU time's "Maximum resident set size").
// BENCH_ROWS: the sizes (default 200000,2000000; 0 skips them). BENCH_PYTHON: a Python with pandas, scikit-learn
// and numpy (default python3). BENCH_ENGINE=never times the row-by-row builder instead.
// BENCH_PARQUET_GB (default 0.1; 0 skips it) preprocesses a generated Parquet file of about that
// size (1 for the issue's 1 GB case; peak RSS reported). BENCH_PREDICT_ROWS (default 1000000; 0
// skips it): `mlpipe predict` of an iris model over that many generated rows to CSV and to Parquet,
// rows/s and peak RSS, next to a pandas + numpy script doing the same work (read, z-score, the same
// MLP's forward pass, write the CSV). Run `npm run build` first. Not a test: figures depend on the
// machine and its load.
import { cpSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats, timeProcessRss } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'run.js');
const python = process.env.BENCH_PYTHON ?? 'python3';
const reps = Number(process.env.BENCH_REPS ?? 3);
const sizes = (process.env.BENCH_ROWS ?? '200000,2000000').split(',').map(Number).filter((n) => n > 0);
const engine = process.env.BENCH_ENGINE ?? 'always';
const parquetGb = Number(process.env.BENCH_PARQUET_GB ?? 0.1);
const predictRows = Number(process.env.BENCH_PREDICT_ROWS ?? 1_000_000);

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-preprocess-'));
const NUMERIC = 16;
const CATEGORIES = [['red', 'green', 'blue', 'teal', 'grey'], ['S', 'M', 'L', 'XL'], ['north', 'south', 'east', 'west', 'centre', 'island', 'coast', 'hills']];

/** xorshift32 in [0, 1): every run writes the same file. */
function random(seed) {
  let x = (seed | 0) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function writeCsv(path, rows) {
  const r = random(rows);
  const fd = openSync(path, 'w');
  const header = [...Array.from({ length: NUMERIC }, (_, i) => `x${i}`), 'c0', 'c1', 'c2', 'label'];
  let buf = `${header.join(',')}\n`;
  for (let i = 0; i < rows; i++) {
    const cells = [];
    let score = 0;
    for (let j = 0; j < NUMERIC; j++) {
      const v = (r() - 0.5) * (j + 1) * 10;
      score += j < 4 ? v : 0;
      cells.push(v.toFixed(4));
    }
    for (const cats of CATEGORIES) cells.push(cats[Math.floor(r() * cats.length)]);
    cells.push(score > 10 ? 'high' : score < -10 ? 'low' : 'mid');
    buf += `${cells.join(',')}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

const PANDAS = `
import sys, numpy as np, pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, OneHotEncoder
src, out = sys.argv[1], sys.argv[2]
df = pd.read_parquet(src) if src.endswith('.parquet') else pd.read_csv(src)
df = df.dropna()
y = df.pop('label')
labels = sorted(y.unique()); codes = y.map({l: i for i, l in enumerate(labels)}).to_numpy(np.float32)
idx = np.arange(len(df))
rest, test = train_test_split(idx, test_size=0.2, random_state=42, stratify=codes)
train, val = train_test_split(rest, test_size=round(0.1 * len(df)), random_state=42, stratify=codes[rest])
num = [c for c in df.columns if df[c].dtype.kind in 'fi']; cat = [c for c in df.columns if c not in num]
scaler = StandardScaler().fit(df.iloc[train][num])
onehot = OneHotEncoder(handle_unknown='ignore', sparse_output=False, dtype=np.float32).fit(df.iloc[train][cat])
for name, part in (('train', train), ('validation', val), ('test', test)):
    rows = df.iloc[part]
    x = np.hstack([scaler.transform(rows[num]).astype(np.float32), onehot.transform(rows[cat])])
    with open(f'{out}/{name}.bin', 'wb') as f:
        f.write(np.ascontiguousarray(x, dtype=np.float32).tobytes()); f.write(codes[part].tobytes())
`;
writeFileSync(join(dir, 'pandas_preprocess.py'), PANDAS);

/** Wall ms and peak RSS (MiB) of one command, through GNU time. */
const measure = (cmd, args, cwd) => timeProcessRss(cmd, args, { cwd, env: { ...process.env, CI: 'true' } });

const show = (xs, unit, digits = 0) => {
  const { median, min, max } = stats(xs);
  return `${median.toFixed(digits).padStart(7)} ${unit} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
};

function workspace(name, input) {
  const ws = join(dir, name);
  mkdirSync(join(ws, 'pandas-out'), { recursive: true });
  writeFileSync(
    join(ws, 'pipeline.yaml'),
    `name: bench-preprocess\nstages:\n  prepare:\n    uses: preprocess\n    with:\n      input: ${input}\n      target: label\n      engine: ${engine}\n      split: { test: 0.2, validation: 0.1, seed: 42, stratify: true }\n`,
  );
  return ws;
}

console.log(`preprocess vs pandas + scikit-learn — ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start (the machine is shared: figures are noisy)`);
console.log(`mlpipe engine setting: ${engine}; ${reps} alternated rounds per size; python: ${python}\n`);
for (const rows of sizes) {
  const ws = workspace(`ws-${rows}`, 'data.csv');
  const csv = join(ws, 'data.csv');
  writeCsv(csv, rows);
  const mb = statSync(csv).size / 1024 ** 2;
  const samples = { mlpipe: { ms: [], mib: [] }, pandas: { ms: [], mib: [] } };
  for (let i = 0; i < reps; i++) {
    for (const who of i % 2 ? ['pandas', 'mlpipe'] : ['mlpipe', 'pandas']) {
      const m = who === 'mlpipe' ? measure(process.execPath, [cli, 'run', 'pipeline.yaml', '--force', '--verbose'], ws) : measure(python, [join(dir, 'pandas_preprocess.py'), csv, join(ws, 'pandas-out')], ws);
      if (who === 'mlpipe' && !/built in the engine/.test(m.out) && engine !== 'never') console.log(`  note: the engine path did not run:\n${m.out.split('\n').filter((l) => /engine|error/i.test(l)).join('\n')}`);
      samples[who].ms.push(m.ms);
      samples[who].mib.push(m.mib);
    }
  }
  console.log(`${rows.toLocaleString('en-US')} rows × 20 columns, CSV ${mb.toFixed(0)} MiB`);
  for (const who of ['mlpipe', 'pandas']) console.log(`  ${who.padEnd(7)} wall ${show(samples[who].ms, 'ms')}   peak RSS ${show(samples[who].mib, 'MiB')}`);
  const ratio = stats(samples.pandas.ms).median / stats(samples.mlpipe.ms).median;
  console.log(`  mlpipe/pandas: ${ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`}; mlpipe peak RSS ${(stats(samples.mlpipe.mib).median / mb).toFixed(2)}× the CSV\n`);
}

if (parquetGb > 0) {
  const rows = Math.round((parquetGb * 1024 ** 3) / 130);
  const ws = workspace('ws-parquet', 'big.parquet');
  const parquet = join(ws, 'big.parquet');
  const gen = `import sys, numpy as np, pandas as pd
n = int(sys.argv[1]); rng = np.random.default_rng(1)
cols = {f'x{i}': rng.standard_normal(n) * (i + 1) for i in range(16)}
cats = ${JSON.stringify(CATEGORIES)}
for k, c in enumerate(cats): cols[f'c{k}'] = pd.Categorical.from_codes(rng.integers(0, len(c), n), c).astype(str)
s = cols['x0'] + cols['x1']; cols['label'] = np.where(s > 1, 'high', np.where(s < -1, 'low', 'mid'))
pd.DataFrame(cols).to_parquet(sys.argv[2], compression=None, row_group_size=200000)
`;
  writeFileSync(join(dir, 'gen_parquet.py'), gen);
  measure(python, [join(dir, 'gen_parquet.py'), String(rows), parquet], dir);
  const gb = statSync(parquet).size / 1024 ** 3;
  const m = measure(process.execPath, [cli, 'run', 'pipeline.yaml', '--force', '--verbose'], ws);
  console.log(`Parquet ${gb.toFixed(2)} GiB (${rows.toLocaleString('en-US')} rows, uncompressed): mlpipe wall ${(m.ms / 1000).toFixed(1)} s, peak RSS ${m.mib.toFixed(0)} MiB`);
}
if (predictRows > 0) benchPredict(predictRows);
rmSync(dir, { recursive: true, force: true });

/** The pandas + numpy side of the predict figure: read, z-score with the model's statistics, the MLP's forward pass (weights from the model), write the CSV. */
function pandasPredictScript() {
  return `import sys, json, numpy as np, pandas as pd
src, model_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
meta = json.load(open(f'{model_dir}/mlpipe.json')); mj = json.load(open(f'{model_dir}/model.json'))
raw = np.fromfile(f'{model_dir}/weights.bin', dtype=np.float32); ws = []; at = 0
for w in mj['weightsManifest'][0]['weights']:
    n = int(np.prod(w['shape'])); ws.append(raw[at:at + n].reshape(w['shape'])); at += n
df = pd.read_csv(src)
feats = meta['dataset']['features']
x = np.stack([(df[f['name']].to_numpy(np.float32) - f['stats']['mean']) / (f['stats']['std'] or 1) for f in feats], axis=1).astype(np.float32)
h = x
for i in range(0, len(ws), 2):
    h = h @ ws[i] + ws[i + 1]
    if i + 2 < len(ws): h = np.maximum(h, 0)
e = np.exp(h - h.max(axis=1, keepdims=True)); p = e / e.sum(axis=1, keepdims=True)
labels = meta['labels']; df.insert(0, 'row', np.arange(1, len(df) + 1)); df['predicted'] = np.array(labels)[p.argmax(axis=1)]
for k, l in enumerate(labels): df[f'p_{l}'] = p[:, k]
df.to_csv(out, index=False, float_format='%.7g')
`;
}

function benchPredict(rows) {
  const ws = join(dir, 'ws-predict');
  cpSync(join(root, 'pipelines', 'iris'), ws, { recursive: true });
  measure(process.execPath, [cli, 'run', 'pipeline.yaml', '--set', 'params.epochs=30'], ws);
  const input = join(ws, 'many.csv');
  const r = random(7);
  const fd = openSync(input, 'w');
  let buf = 'sepal_length,sepal_width,petal_length,petal_width\n';
  for (let i = 0; i < rows; i++) {
    buf += `${(4.3 + r() * 3.6).toFixed(1)},${(2 + r() * 2.4).toFixed(1)},${(1 + r() * 5.9).toFixed(1)},${(0.1 + r() * 2.4).toFixed(1)}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  writeFileSync(join(dir, 'pandas_predict.py'), pandasPredictScript());
  const modelDir = join(ws, 'runs', 'models', 'iris', '1');
  const variants = {
    'mlpipe → csv': () => measure(process.execPath, [cli, 'predict', 'iris', '--input', input, '--output', join(ws, 'out.csv')], ws),
    'mlpipe → parquet': () => measure(process.execPath, [cli, 'predict', 'iris', '--input', input, '--output', join(ws, 'out.parquet')], ws),
    'pandas → csv': () => measure(python, [join(dir, 'pandas_predict.py'), input, modelDir, join(ws, 'pandas.csv')], ws),
  };
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((n) => [n, { ms: [], mib: [] }]));
  for (let i = 0; i < reps; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      const m = variants[name]();
      samples[name].ms.push(m.ms);
      samples[name].mib.push(m.mib);
    }
  }
  const predicted = (file) => {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const at = lines[0].split(',').indexOf('predicted');
    return lines.slice(1).map((l) => l.split(',')[at]);
  };
  const ours = predicted(join(ws, 'out.csv'));
  const theirs = predicted(join(ws, 'pandas.csv'));
  const agree = ours.filter((v, i) => v === theirs[i]).length;
  const mb = statSync(input).size / 1024 ** 2;
  console.log(`predict ${rows.toLocaleString('en-US')} rows (iris mlp [16], CSV ${mb.toFixed(0)} MiB), whole process; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} now`);
  for (const name of names) {
    const rate = samples[name].ms.map((ms) => rows / (ms / 1000));
    console.log(`  ${name.padEnd(17)} ${show(rate, 'rows/s')}   wall ${show(samples[name].ms, 'ms')}   peak RSS ${show(samples[name].mib, 'MiB')}`);
  }
  console.log(`  the pandas script predicts the same class as mlpipe on ${agree.toLocaleString('en-US')} of ${ours.length.toLocaleString('en-US')} rows`);
}
