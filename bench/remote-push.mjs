// `mlpipe push` / `pull` throughput against a local S3-protocol server (s3rver in a child process,
// on a loopback port and a temp folder) and a folder remote, next to `cp -r` of the same files in the
// same run: BENCH_GIB GiB of data (default 1; BENCH_MB=N for N MB instead) as 1 file and as
// BENCH_FILES files (default 1 and 1,000 files), each measured BENCH_REPS times (default 5), the
// order of `cp -r`, the S3 round and the folder round rotating from rep to rep; medians with
// min–max and the ratio to `cp -r`. Also a second push of the same entry (nothing to send).
// Needs `npm run build` first. The copy core is copyEntries (dist/core/cache/copy-entries.js),
// what `mlpipe push` and `mlpipe pull` run after choosing the entries.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyEntries } from '../dist/core/cache/copy-entries.js';
import { encodeManifest } from '../dist/core/cache/manifest.js';
import { hashFiles } from '../dist/core/hash/hash-file.js';
import { LocalObjectStore } from '../dist/core/store/local-store.js';
import { S3ObjectStore } from '../dist/core/store/s3-store.js';
import { median, ratio, spread as fmt, time } from './paired.mjs';

const BYTES = process.env.BENCH_MB ? Number(process.env.BENCH_MB) * 1e6 : Number(process.env.BENCH_GIB ?? 1) * 2 ** 30;
const MB = BYTES / 1e6;
const SIZE = process.env.BENCH_MB ? `${process.env.BENCH_MB} MB` : `${Number(process.env.BENCH_GIB ?? 1)} GiB`;
const FILE_COUNTS = (process.env.BENCH_FILES ?? '1,1000').split(',').map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'mlpipe-bench-remote-'));
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });

const server = spawn(process.execPath, ['--input-type=module', '-e', `
  import S3rver from 's3rver';
  const s = new S3rver({ port: 0, address: '127.0.0.1', directory: ${JSON.stringify(join(dir, 's3'))}, silent: true, configureBuckets: [{ name: 'bench' }] });
  const { port } = await s.run();
  console.log(port);
`], { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  server.once('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
});
const endpoint = `http://127.0.0.1:${port}`;

const rate = (ms) => `${(MB / (median(ms) / 1000)).toFixed(0)} MB/s`;
const cpR = (src, dest) =>
  new Promise((resolve, reject) => spawn('cp', ['-r', src, dest], { stdio: 'inherit' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cp exited ${code}`)))));

let unique = 0;
try {
  for (const files of FILE_COUNTS) {
    // The entry: `files` files of MB/files each, in a local cache, named by one manifest.
    const src = join(dir, `src-${files}`);
    mkdirSync(src, { recursive: true });
    const size = Math.floor(BYTES / files);
    const paths = [];
    for (let i = 0; i < files; i++) {
      const path = join(src, `f${String(i).padStart(5, '0')}.bin`);
      writeFileSync(path, randomBytes(size));
      paths.push(path);
    }
    const hashes = await hashFiles(paths);
    const local = new LocalObjectStore(join(dir, `cache-${files}`));
    for (let i = 0; i < files; i++) await local.put(hashes[i], paths[i], { size });
    const key = randomBytes(32).toString('hex');
    const manifest = { schemaVersion: 1, key, stage: 'bench', kind: 'shell', runId: 'r-bench', createdAt: 0, metrics: {}, outputs: { out: { type: 'dir', digest: key, files: hashes.map((hash, i) => ({ path: `f${i}.bin`, hash, size, mode: 0o644 })) } } };
    await local.putManifest(key, encodeManifest(manifest));

    const t = { s3Push: [], s3Pull: [], s3Again: [], folderPush: [], folderPull: [], cp: [] };
    for (let rep = 0; rep < REPS; rep++) {
      const n = ++unique;
      const rounds = [
        async () => t.cp.push(await time(() => cpR(src, join(dir, `cp-${n}`)))),
        async () => {
          const s3 = new S3ObjectStore({ url: `s3://bench/r${n}`, endpoint });
          t.s3Push.push(await time(() => copyEntries(local, s3, [key])));
          t.s3Again.push(await time(() => copyEntries(local, s3, [key])));
          t.s3Pull.push(await time(() => copyEntries(s3, new LocalObjectStore(join(dir, `pulled-s3-${n}`)), [key])));
        },
        async () => {
          const folder = new LocalObjectStore(join(dir, `nfs-${n}`));
          t.folderPush.push(await time(() => copyEntries(local, folder, [key])));
          t.folderPull.push(await time(() => copyEntries(folder, new LocalObjectStore(join(dir, `pulled-nfs-${n}`)), [key])));
        },
      ];
      for (let i = 0; i < rounds.length; i++) await rounds[(i + rep) % rounds.length]();
      for (const name of [`cp-${n}`, `pulled-s3-${n}`, `nfs-${n}`, `pulled-nfs-${n}`]) rmSync(join(dir, name), { recursive: true, force: true });
      rmSync(join(dir, 's3', 'bench', `r${n}`), { recursive: true, force: true });
    }
    console.log(`\n${SIZE} as ${files} file${files === 1 ? '' : 's'}, ${REPS} reps, rounds rotating (median, min–max):`);
    console.log(`  cp -r (reference)        ${fmt(t.cp)}  ${rate(t.cp)}`);
    for (const [label, ms] of [['push to S3 (s3rver)', t.s3Push], ['pull from S3 (s3rver)', t.s3Pull], ['push to a folder', t.folderPush], ['pull from a folder', t.folderPull]]) {
      console.log(`  ${label.padEnd(24)} ${fmt(ms)}  ${rate(ms)}  ${ratio(ms, t.cp, 'cp -r')}`);
    }
    console.log(`  second push to S3 (nothing to send)  ${fmt(t.s3Again)}`);
  }
} finally {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
