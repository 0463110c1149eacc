// A fully cached 10-stage pipeline whose stages read BENCH_GIB (default 1) GiB of inputs in total:
// wall time of `mlpipe run` and `mlpipe status` as whole processes, started the way the README's
// set-up leaves them (`npm run link-cli`: a `mlpipe` link to bin/mlpipe.cjs, executed through its
// `#!/usr/bin/env node` line), alternating with `node -e 0` measured in the same run, and with
// `node bin/run.js run` (the ES module entry the tests spawn, which pays for node's ES module loader).
// BENCH_NPX=1 also times `npx mlpipe run` (the README's fallback). BENCH_BASELINE=DIR also times the
// no-op run of another built checkout (e.g. a worktree of an older commit) over a copy of the same
// project, alternating with this one (issue 14: hardening must stay within 10 %). BENCH_CODE=1: each stage
// runs `node stage.mjs …`, a script importing 20 local modules, so the no-op run also fingerprints that
// code (issue 15 item 13; their imports come from runs/cache/code-imports.json). Run `npm run build` first.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeNoopProject } from './noop-project.mjs';
import { alternate, fmt, stats, timeProcess } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gib = Number(process.env.BENCH_GIB ?? 1);
const stages = 10;
const reps = Number(process.env.BENCH_REPS ?? 11);
const target = 1.5;

const dir = makeNoopProject({ stages, gib, code: process.env.BENCH_CODE === '1' });
// The README's second command, into a private folder instead of ~/.local/bin.
const binDir = join(dir, 'bin');
execFileSync(process.execPath, [join(root, 'scripts', 'link-cli.mjs')], { env: { ...process.env, MLPIPE_BIN_DIR: binDir }, stdio: 'ignore' });
const mlpipe = join(binDir, 'mlpipe');

// The user's PATH with the link's folder first, as after `npm run link-cli`.
const env = { ...process.env, CI: 'true', PATH: `${binDir}:${process.env.PATH}` };
const time = (cmd, args) => timeProcess(cmd, args, { cwd: dir, env });

const first = time(mlpipe, ['run', 'pipeline.yaml']);
const cat = time('sh', ['-c', 'cat in*.bin > /dev/null']);
time(mlpipe, ['run', 'pipeline.yaml']); // warm: the file system cache, and the CLI's compile cache
// The other checkout gets its own copy of the project (its runs folder may have another layout), inputs hard-linked.
const baseline = process.env.BENCH_BASELINE;
const baseDir = join(dir, 'baseline');
const timeBaseline = () => timeProcess(process.execPath, [join(baseline, 'bin', 'run.js'), 'run', 'pipeline.yaml'], { cwd: baseDir, env });
if (baseline) {
  execFileSync('sh', ['-c', `mkdir -p baseline/out && ln in*.bin pipeline.yaml baseline/ && if [ -d lib ]; then cp -r lib stage.mjs baseline/; fi`], { cwd: dir });
  timeBaseline();
  timeBaseline();
}
const samples = alternate(reps, {
  bare: () => time(process.execPath, ['-e', '0']),
  run: () => time(mlpipe, ['run', 'pipeline.yaml']),
  status: () => time(mlpipe, ['status', 'pipeline.yaml']),
  esm: () => time(process.execPath, [join(root, 'bin', 'run.js'), 'run', 'pipeline.yaml']),
  ...(baseline ? { baseline: timeBaseline } : {}),
});
const bare = stats(samples.bare);
const run = stats(samples.run);
const status = stats(samples.status);
const ratio = (s) => `${(s.median / bare.median).toFixed(2)}× node -e 0   target ≤ ${target}×${s.median / bare.median <= target ? '' : '  MISSED'}`;

console.log(`no-op pipeline: ${stages} stages reading ${gib} GiB${process.env.BENCH_CODE === '1' ? ', each running a script that imports 20 local modules' : ''}; \`mlpipe\` = ${mlpipe} -> bin/mlpipe.cjs; median (min–max) of ${reps}, alternating`);
console.log(`  first run (hash + execute)  ${first.toFixed(0)} ms   (cat of the inputs: ${cat.toFixed(0)} ms)`);
console.log(`  node -e 0                   ${fmt(bare)}`);
console.log(`  mlpipe run   (all cached)   ${fmt(run)}   ${ratio(run)}`);
console.log(`  mlpipe status               ${fmt(status)}   ${ratio(status)}`);
console.log(`  node bin/run.js run         ${fmt(stats(samples.esm))}   ${ratio(stats(samples.esm))}`);
if (baseline) {
  const base = stats(samples.baseline);
  console.log(`  baseline run (${baseline})  ${fmt(base)}   this checkout ${((run.median / base.median - 1) * 100).toFixed(1)} % ${run.median <= base.median ? 'faster' : 'slower'}`);
}
if (process.env.BENCH_NPX === '1') {
  const npx = stats(Array.from({ length: 3 }, () => time('npx', ['--prefix', root, 'mlpipe', 'run', 'pipeline.yaml'])));
  console.log(`  npx mlpipe run (fallback)   ${fmt(npx)}   ${(npx.median / bare.median).toFixed(1)}× node -e 0`);
}
rmSync(dir, { recursive: true, force: true });
