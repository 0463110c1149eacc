// ASHA against plain random search over the same trials: pipelines/iris (through evaluate), BENCH_TRIALS
// (default 12) learning rates drawn from loguniform(1e-4,1e-1) with --seed 1, BENCH_EPOCHS (default 27)
// epochs, --jobs BENCH_JOBS (default 2). Each rep runs both sweeps in a fresh runs folder (nothing
// restored), the order alternating; reported as the median wall time with min–max, the ratio to the
// random search measured in the same run, the epochs trained in all, and the best validation
// accuracy each search found (with that trial's test accuracy). Run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, paired, ratio, spread } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reps = Number(process.env.BENCH_REPS ?? 3);
const trials = process.env.BENCH_TRIALS ?? '12';
const epochs = process.env.BENCH_EPOCHS ?? '27';
const jobs = process.env.BENCH_JOBS ?? '2';

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-asha-'));
cpSync(join(root, 'pipelines', 'iris'), dir, { recursive: true });
const common = [
  'run', 'pipeline.yaml', '--stage', 'evaluate', '--json', '--jobs', jobs,
  '--sweep', 'params.lr=loguniform(1e-4,1e-1)', '--trials', trials, '--seed', '1',
  '--set', `params.epochs=${epochs}`, '--set', 'train.early_stopping.patience=1000', '--set', 'prepare.split.validation=0.3',
];
const variants = { random: [], asha: ['--search', 'asha', '--objective', 'val_accuracy', '--min-epochs', '1', '--reduction', '3'] };
const found = { random: [], asha: [] };

function sweep(label, rep) {
  const runsDir = join(dir, `runs-${label}-${rep}`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), ...common, ...variants[label], '--runs-dir', runsDir], { cwd: dir, env: { ...process.env, CI: 'true' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${label} sweep exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const s = JSON.parse(r.stdout);
  const kept = s.points.filter((p) => p.pruned === undefined && p.status === 'completed');
  const best = kept.reduce((a, p) => (a === undefined || p.metrics['train.val_accuracy'] > a.metrics['train.val_accuracy'] ? p : a), undefined);
  found[label].push({
    val: best?.metrics['train.val_accuracy'],
    test: best?.metrics['evaluate.accuracy'],
    epochs: s.points.reduce((n, p) => n + (p.metrics['train.epochs'] ?? 0), 0),
    pruned: s.points.filter((p) => p.pruned !== undefined).length,
  });
  rmSync(runsDir, { recursive: true, force: true });
}

try {
  sweep('random', 'warm'); // the file system cache, and the CLI's compile cache
  const ms = await paired(reps, { random: async (rep) => sweep('random', rep), asha: async (rep) => sweep('asha', rep) });
  console.log(`iris, ${trials} trials of loguniform(1e-4,1e-1) lr, ${epochs} epochs, --jobs ${jobs}, ${reps} paired reps (order alternating)`);
  for (const label of ['random', 'asha']) {
    const f = found[label].slice(label === 'random' ? 1 : 0);
    const line = [
      label.padEnd(7),
      spread(ms[label]).padEnd(26),
      (label === 'random' ? '1.00× random' : ratio(ms.asha, ms.random, 'random')).padEnd(14),
      `epochs trained ${median(f.map((x) => x.epochs))}`,
      `pruned ${median(f.map((x) => x.pruned))}/${trials}`,
      `best val_accuracy ${median(f.map((x) => x.val)).toFixed(4)} (test accuracy ${median(f.map((x) => x.test)).toFixed(4)})`,
    ];
    console.log(line.join('  '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
