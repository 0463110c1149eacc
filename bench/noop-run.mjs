// A fully cached 10-stage pipeline whose stages read BENCH_GIB (default 1) GiB of inputs in total:
// wall time of `mlpipe run` and `mlpipe status` as whole processes, started the way the README's
// set-up leaves them (`npm run link-cli`: a `mlpipe` link to bin/run.js, executed through its
// `#!/usr/bin/env node` line), alternating with `node -e 0` measured in the same run.
// BENCH_NPX=1 also times `npx mlpipe run` (the README's fallback). BENCH_BASELINE=DIR also times the
// no-op run of another built checkout (e.g. a worktree of an older commit) over a copy of the same
// project, alternating with this one (issue 14: hardening must stay within 10 %). BENCH_CODE=1: each stage
// runs `node stage.mjs …`, a script importing 20 local modules, so the no-op run also fingerprints that
// code (issue 15 item 13; their imports come from runs/cache/code-imports.json). Run `npm run build` first.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';
import { alternate, fmt, stats, timeProcess } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gib = Number(process.env.BENCH_GIB ?? 1);
const stages = 10;
const perFile = Math.floor((gib * 1024 ** 3) / stages);
const reps = Number(process.env.BENCH_REPS ?? 11);
const target = 1.5;

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-noop-'));
// The README's second command, into a private folder instead of ~/.local/bin.
const binDir = join(dir, 'bin');
execFileSync(process.execPath, [join(root, 'scripts', 'link-cli.mjs')], { env: { ...process.env, MLPIPE_BIN_DIR: binDir }, stdio: 'ignore' });
const mlpipe = join(binDir, 'mlpipe');

const chunk = Buffer.alloc(4 * 1024 * 1024);
let spec = 'name: noop-bench\nstages:\n';
for (let i = 0; i < stages; i++) {
  const fd = openSync(join(dir, `in${i}.bin`), 'w');
  for (let w = 0; w < perFile; w += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, perFile - w));
  }
  closeSync(fd);
  const prev = i > 0 ? ` \${stages.s${i - 1}.outputs.out/s${i - 1}.txt}` : '';
  const command = process.env.BENCH_CODE === '1' ? `node stage.mjs in${i}.bin${prev}` : `wc -c in${i}.bin${prev}`;
  spec += `  s${i}:\n    run: ${command} > out/s${i}.txt\n    deps: [in${i}.bin]\n    outs: [out/s${i}.txt]\n`;
}
if (process.env.BENCH_CODE === '1') {
  mkdirSync(join(dir, 'lib'));
  const mods = Array.from({ length: 20 }, (_, i) => `m${i}`);
  mods.forEach((m, i) => writeFileSync(join(dir, 'lib', `${m}.mjs`), `${i > 0 ? `import './m${i - 1}.mjs';\n` : ''}export const ${m} = ${i};\n`));
  writeFileSync(join(dir, 'stage.mjs'), `import { statSync } from 'node:fs';\n${mods.map((m) => `import { ${m} } from './lib/${m}.mjs';`).join('\n')}\nfor (const f of process.argv.slice(2)) console.log(statSync(f).size, f);\n`);
}
writeFileSync(join(dir, 'pipeline.yaml'), spec);
mkdirSync(join(dir, 'out'));

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
  ...(baseline ? { baseline: timeBaseline } : {}),
});
const bare = stats(samples.bare);
const run = stats(samples.run);
const status = stats(samples.status);
const ratio = (s) => `${(s.median / bare.median).toFixed(2)}× node -e 0   target ≤ ${target}×${s.median / bare.median <= target ? '' : '  MISSED'}`;

console.log(`no-op pipeline: ${stages} stages reading ${gib} GiB${process.env.BENCH_CODE === '1' ? ', each running a script that imports 20 local modules' : ''}; \`mlpipe\` = ${mlpipe} -> bin/run.js; median (min–max) of ${reps}, alternating`);
console.log(`  first run (hash + execute)  ${first.toFixed(0)} ms   (cat of the inputs: ${cat.toFixed(0)} ms)`);
console.log(`  node -e 0                   ${fmt(bare)}`);
console.log(`  mlpipe run   (all cached)   ${fmt(run)}   ${ratio(run)}`);
console.log(`  mlpipe status               ${fmt(status)}   ${ratio(status)}`);
if (baseline) {
  const base = stats(samples.baseline);
  console.log(`  baseline run (${baseline})  ${fmt(base)}   this checkout ${((run.median / base.median - 1) * 100).toFixed(1)} % ${run.median <= base.median ? 'faster' : 'slower'}`);
}
if (process.env.BENCH_NPX === '1') {
  const npx = stats(Array.from({ length: 3 }, () => time('npx', ['--prefix', root, 'mlpipe', 'run', 'pipeline.yaml'])));
  console.log(`  npx mlpipe run (fallback)   ${fmt(npx)}   ${(npx.median / bare.median).toFixed(1)}× node -e 0`);
}
rmSync(dir, { recursive: true, force: true });
