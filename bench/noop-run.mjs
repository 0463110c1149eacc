// A fully cached 10-stage pipeline whose stages read BENCH_GIB (default 1) GiB of inputs in total:
// wall time of `mlpipe run` and `mlpipe status` as whole processes, next to `node -e 0` measured in
// the same run. Run `npm run build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'run.js');
const gib = Number(process.env.BENCH_GIB ?? 1);
const stages = 10;
const perFile = Math.floor((gib * 1024 ** 3) / stages);
const reps = Number(process.env.BENCH_REPS ?? 7);

const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-noop-'));
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
  spec += `  s${i}:\n    run: wc -c in${i}.bin${prev} > out/s${i}.txt\n    deps: [in${i}.bin]\n    outs: [out/s${i}.txt]\n`;
}
writeFileSync(join(dir, 'pipeline.yaml'), spec);
execFileSync('mkdir', ['-p', join(dir, 'out')]);

const time = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { cwd: dir, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const measure = (args) => median(Array.from({ length: reps }, () => time(args)));

const first = time([process.execPath, cli, 'run', 'pipeline.yaml']);
const bare = measure([process.execPath, '-e', '0']);
const run = measure([process.execPath, cli, 'run', 'pipeline.yaml']);
const status = measure([process.execPath, cli, 'status', 'pipeline.yaml']);
const cat = time(['sh', '-c', 'cat in*.bin > /dev/null']);

console.log(`no-op pipeline: ${stages} stages reading ${gib} GiB (median of ${reps})`);
console.log(`  first run (hash + execute)  ${first.toFixed(0)} ms   (cat of the inputs: ${cat.toFixed(0)} ms)`);
console.log(`  node -e 0                   ${bare.toFixed(0)} ms`);
console.log(`  mlpipe run  (all cached)    ${run.toFixed(0)} ms   ${(run / bare).toFixed(1)}× node startup   target < 250 ms`);
console.log(`  mlpipe status               ${status.toFixed(0)} ms   ${(status / bare).toFixed(1)}× node startup   target < 250 ms`);
rmSync(dir, { recursive: true, force: true });
