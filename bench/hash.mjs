// Hashing throughput: BENCH_GIB GiB (default 1) in 10 files, and 10,000 files of 10 KiB, hashed
// through the stat cache (first, uncached; then cache hits in the same process; then hits after
// reloading the saved cache), next to `cat`, `sha256sum` and `b3sum` (when installed) reading the
// same files. Files are aged a minute so the racy-entry guard does not apply. All reads come from
// the page cache (the files were just written). Needs `npx tsc -p tsconfig.build.json` first.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, utimesSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashFiles } from '../dist/core/hash/hash-file.js';
import { StatCache } from '../dist/core/hash/stat-cache.js';

const GIB = Number(process.env.BENCH_GIB ?? 1);
const BIG_FILES = 10;
const SMALL_FILES = 10_000;
const SMALL_BYTES = 10 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const root = mkdtempSync(join(tmpdir(), 'mlpipe-bench-hash-'));
const runs = join(root, 'runs');
const aged = new Date(Date.now() - 60_000);

function makeFile(path, bytes, block) {
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes; ) {
    block.writeUInt32LE(written >>> 0, 0);
    written += writeSync(fd, block, 0, Math.min(block.length, bytes - written));
  }
  closeSync(fd);
  utimesSync(path, aged, aged);
}

const block = randomFillSync(Buffer.allocUnsafe(16 << 20));
const bigBytes = Math.floor((GIB * 2 ** 30) / BIG_FILES);
const big = Array.from({ length: BIG_FILES }, (_, i) => join(root, 'big', `part-${i}.bin`));
mkdirSync(join(root, 'big'));
big.forEach((path) => makeFile(path, bigBytes, block));
const small = Array.from({ length: SMALL_FILES }, (_, i) => join(root, 'small', `d${Math.floor(i / 100)}`, `f${i}.bin`));
for (let d = 0; d < SMALL_FILES / 100; d++) mkdirSync(join(root, 'small', `d${d}`), { recursive: true });
small.forEach((path, i) => {
  block.writeUInt32LE(i, 4);
  makeFile(path, SMALL_BYTES, block.subarray(0, SMALL_BYTES));
});

function tool(name, args, files) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found) return undefined;
  const start = performance.now();
  const result = spawnSync(name, [...args, ...files], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${name} failed`);
  return (performance.now() - start) / 1000;
}

async function timed(run) {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

const warmup = join(root, 'warmup');
makeFile(warmup, 1, block);
const spawnSeconds = await timed(() => hashFiles([warmup]));

const sets = [
  { label: `${BIG_FILES} files, ${GIB} GiB`, files: big, bytes: bigBytes * BIG_FILES },
  { label: `${SMALL_FILES} files of 10 KiB`, files: small, bytes: SMALL_FILES * SMALL_BYTES },
];
const rows = [];
for (const set of sets) {
  const best = {};
  const keep = (name, seconds) => {
    if (seconds !== undefined) best[name] = Math.min(best[name] ?? Infinity, seconds);
  };
  for (let round = 0; round < ROUNDS; round++) {
    rmSync(join(runs, 'cache', 'stat-cache.json'), { force: true });
    const cache = await StatCache.open(runs, { fresh: true });
    keep('first', await timed(() => cache.hashAll(set.files)));
    keep('hits', await timed(() => cache.hashAll(set.files)));
    await cache.save();
    keep('reloaded', await timed(async () => (await StatCache.open(runs, { fresh: true })).hashAll(set.files)));
    keep('cat', tool('cat', [], set.files));
    keep('sha', tool('sha256sum', [], set.files));
    keep('b3', tool('b3sum', ['--num-threads', '2'], set.files));
  }
  rows.push({ ...set, ...best });
}

const gbs = (bytes, seconds) => `${(bytes / seconds / 1e9).toFixed(2)} GB/s`;
const vs = (seconds, other) => (other === undefined ? 'n/a' : `${(seconds / other).toFixed(2)}x`);
console.log(`hash worker pool start: ${(spawnSeconds * 1000).toFixed(0)} ms (once per process)`);
for (const row of rows) {
  console.log(`\n${row.label} (${(row.bytes / 2 ** 20).toFixed(0)} MiB)`);
  console.log('  what                          seconds   throughput    time vs cat  vs sha256sum  vs b3sum');
  const line = (what, seconds) =>
    console.log(
      `  ${what.padEnd(28)}  ${seconds.toFixed(3).padStart(7)}   ${gbs(row.bytes, seconds).padStart(11)}   ${vs(seconds, row.cat).padStart(9)}  ${vs(seconds, row.sha).padStart(12)}  ${vs(seconds, row.b3).padStart(8)}`,
    );
  line('mlpipe first hash (blake3)', row.first);
  line('mlpipe stat-cache hits', row.hits);
  line('mlpipe hits after reload', row.reloaded);
  if (row.cat !== undefined) line('cat', row.cat);
  if (row.sha !== undefined) line('sha256sum', row.sha);
  if (row.b3 !== undefined) line('b3sum (2 threads)', row.b3);
}
const [bigRow, smallRow] = rows;
const perByte = (row) => row.first / row.bytes;
console.log(`\nsmall files vs big files, first hash, time per byte: ${(perByte(smallRow) / perByte(bigRow)).toFixed(2)}x`);
rmSync(root, { recursive: true, force: true });
process.exit(0);
