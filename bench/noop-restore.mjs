// Issue 15 item 6: a "nothing changed" re-run must leave outputs alone. Two pipelines, each one
// shell stage: one writes a folder of BENCH_FILES (default 5,000) small files, one a file of
// BENCH_GIB (default 1) GiB. After the first run, times the fully cached `mlpipe run` and
// `mlpipe status` as whole processes, alternating with `node -e 0` and with `cp -r` of the same
// output (what a restore that copies costs), and checks the outputs keep their inode and mtime.
// Targets: folder < 500 ms, 1 GiB file < 300 ms. Run `npm run build` first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, fmt, stats, timeProcess } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = Number(process.env.BENCH_FILES ?? 5000);
const gib = Number(process.env.BENCH_GIB ?? 1);
const reps = Number(process.env.BENCH_REPS ?? 7);
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-restore-'));
const mlpipe = join(dir, 'bin', 'mlpipe');
execFileSync(process.execPath, [join(root, 'scripts', 'link-cli.mjs')], { env: { ...process.env, MLPIPE_BIN_DIR: join(dir, 'bin') }, stdio: 'ignore' });
const env = { ...process.env, CI: 'true' };

const cases = [
  { name: `folder of ${files} files`, out: 'out/many', target: 500, run: `mkdir -p out/many && i=0; while [ $i -lt ${files} ]; do echo $i > out/many/f$i.txt; i=$((i+1)); done` },
  { name: `${gib} GiB file`, out: 'out/big.bin', target: 300, run: `mkdir -p out && head -c ${Math.round(gib * 1024 ** 3)} /dev/zero > out/big.bin` },
];
console.log(`no-op restore: whole processes, median (min–max) of ${reps}, alternating with node -e 0 and cp -r of the output`);
for (const c of cases) {
  const cwd = mkdtempSync(join(dir, 'p-'));
  writeFileSync(join(cwd, 'pipeline.yaml'), `name: noop-restore\nstages:\n  s:\n    run: ${JSON.stringify(c.run)}\n    outs: [${c.out}]\n`);
  const time = (cmd, args) => timeProcess(cmd, args, { cwd, env });
  time(mlpipe, ['run', 'pipeline.yaml']);
  // Past the stat cache's racy window (2 s), as any later re-run is.
  execFileSync('sleep', ['2.5']);
  time(mlpipe, ['run', 'pipeline.yaml']);
  const probe = join(cwd, c.out, statSync(join(cwd, c.out)).isDirectory() ? 'f0.txt' : '');
  const before = statSync(probe);
  const s = alternate(reps, {
    bare: () => time(process.execPath, ['-e', '0']),
    run: () => time(mlpipe, ['run', 'pipeline.yaml']),
    status: () => time(mlpipe, ['status', 'pipeline.yaml']),
    cp: () => time('sh', ['-c', `rm -rf /tmp/.cp-ref-$$ && cp -r ${c.out} /tmp/.cp-ref-$$ && rm -rf /tmp/.cp-ref-$$`]),
  });
  const after = statSync(probe);
  const run = stats(s.run);
  console.log(`  ${c.name}`);
  console.log(`    node -e 0                 ${fmt(stats(s.bare))}`);
  console.log(`    cp -r of the output       ${fmt(stats(s.cp))}`);
  console.log(`    mlpipe run (no-op)        ${fmt(run)}   target < ${c.target} ms${run.median < c.target ? '' : '  MISSED'}`);
  console.log(`    mlpipe status             ${fmt(stats(s.status))}`);
  console.log(`    output untouched: inode ${before.ino === after.ino ? 'same' : 'CHANGED'}, mtime ${before.mtimeMs === after.mtimeMs ? 'same' : 'CHANGED'}`);
}
rmSync(dir, { recursive: true, force: true });
