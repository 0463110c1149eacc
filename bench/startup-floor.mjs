// How fast can a no-op `mlpipe run` start on this node? Paired, alternating with `node -e 0`:
// - node started from an empty V8 startup snapshot (`--snapshot-blob`): what a snapshot launcher
//   costs before any mlpipe code runs;
// - `mlpipe --version` (oclif and the bundle loaded, no command) and `mlpipe run` / `status` of the
//   fully cached 10-stage pipeline of bench/noop-run.mjs, through the `mlpipe` command (bin/mlpipe.cjs);
// - the same run from a startup snapshot of the bundle with oclif, `run` and `status` already
//   evaluated (node 20: `--build-snapshot`, `v8.startupSnapshot.setDeserializeMainFunction`), built
//   here into a temporary folder: the lever issue 10 asks to measure. It also lists the environment
//   variables the bundle reads while it is evaluated, which a snapshot would freeze at build time.
// Also each run's CPU time (user + system, /usr/bin/time when present): steadier than wall time on a
// loaded machine. BENCH_REPS (default 15). Run `npm run build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeNoopProject } from './noop-project.mjs';
import { alternate, fmt, stats } from './paired.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bundle', 'cli', 'mlpipe.cjs');
const reps = Number(process.env.BENCH_REPS ?? 15);
const dir = makeNoopProject({ gib: 0.01, prefix: 'mlpipe-bench-floor-' });
const env = { ...process.env, CI: 'true' };
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Wall and CPU ms of one process; throws with its stderr when it fails. */
function measure(argv) {
  const [cmd, args] = TIME ? [TIME, ['-f', '%U %S', ...argv]] : [argv[0], argv.slice(1)];
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [user, sys] = TIME ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
  return { wall, cpu: (user + sys) * 1000 };
}

const empty = join(dir, 'empty.blob');
writeFileSync(join(dir, 'empty.cjs'), "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
execFileSync(process.execPath, ['--snapshot-blob', empty, '--build-snapshot', join(dir, 'empty.cjs')], { cwd: dir, stdio: 'ignore' });

// The bundle inside a snapshot builder: only built-in modules can be required there, so the
// packages the bundle requires while it is evaluated (better-sqlite3) become stand-ins that load the
// real package on first use; the builder logs which environment variables are read.
const entry = `'use strict';
const v8 = require('node:v8');
const BUNDLE = ${JSON.stringify(bundle)};
const readEnv = new Set();
const realEnv = process.env;
process.env = new Proxy(realEnv, { get: (t, k) => (typeof k === 'string' && readEnv.add(k), t[k]), has: (t, k) => (typeof k === 'string' && readEnv.add(k), k in t) });
let building = true;
let realRequire = require;
const standIn = (id) => {
  let real;
  const load = () => { if (building) throw new Error(id + ' used while building the snapshot'); return (real ??= realRequire(id)); };
  return new Proxy(function () {}, {
    get: (t, k) => (building && (k === '__esModule' || typeof k === 'symbol') ? undefined : Reflect.get(load(), k)),
    has: (t, k) => Reflect.has(load(), k),
    apply: (t, self, args) => Reflect.apply(load(), self, args),
    construct: (t, args, nt) => Reflect.construct(load(), args, nt === t ? load() : nt),
  });
};
const bundleRequire = (id) => {
  if (!building) return realRequire(id);
  try { return realRequire(id); } catch (err) { if (!/Cannot find module/.test(err.message)) throw err; return standIn(id); }
};
bundleRequire.resolve = (id, o) => realRequire.resolve(id, o);
let importImpl;
globalThis.__mlpipeImport = (s) => importImpl(s);
const mod = { exports: {} };
(function (exports, require, module, __filename, __dirname) {
${readFileSync(bundle, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '')}
}).call(mod.exports, mod.exports, bundleRequire, mod, BUNDLE, require('node:path').dirname(BUNDLE));
mod.exports.COMMANDS.run;
mod.exports.COMMANDS.status;
building = false;
process.env = realEnv;
require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'env-read.json'))}, JSON.stringify([...readEnv]));
v8.startupSnapshot.setDeserializeMainFunction(() => {
  const Module = require('node:module');
  realRequire = Module.createRequire(BUNDLE);
  importImpl = (s) => import(s);
  const m = new Module(BUNDLE, undefined);
  m.filename = BUNDLE;
  m.paths = Module._nodeModulePaths(require('node:path').dirname(BUNDLE));
  m.exports = mod.exports;
  m.loaded = true;
  Module._cache[BUNDLE] = m;
  process.argv.splice(1, 0, ${JSON.stringify(join(root, 'bin', 'mlpipe.cjs'))});
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
  mod.exports.execute({ dir: ${JSON.stringify(join(root, 'bin', 'mlpipe.cjs'))} });
});
`;
const snap = join(dir, 'mlpipe.blob');
writeFileSync(join(dir, 'snapshot-entry.cjs'), entry);
execFileSync(process.execPath, ['--snapshot-blob', snap, '--build-snapshot', join(dir, 'snapshot-entry.cjs')], { cwd: dir, stdio: 'ignore' });

const mlpipe = [process.execPath, join(root, 'bin', 'mlpipe.cjs')];
measure([...mlpipe, 'run', 'pipeline.yaml']);
measure([...mlpipe, 'run', 'pipeline.yaml']); // the code cache of `run`
measure([...mlpipe, 'status', 'pipeline.yaml']);
measure([...mlpipe, '--version']);
const samples = alternate(reps, {
  'node -e 0': () => measure([process.execPath, '-e', '0']),
  'node, empty snapshot': () => measure([process.execPath, '--snapshot-blob', empty]),
  'mlpipe --version': () => measure([...mlpipe, '--version']),
  'mlpipe run': () => measure([...mlpipe, 'run', 'pipeline.yaml']),
  'mlpipe status': () => measure([...mlpipe, 'status', 'pipeline.yaml']),
  'run from a snapshot': () => measure([process.execPath, '--snapshot-blob', snap, 'run', 'pipeline.yaml']),
});
const mb = (f) => `${(statSync(f).size / 1024 ** 2).toFixed(1)} MB`;
const wall = (name) => stats(samples[name].map((s) => s.wall));
const cpu = (name) => stats(samples[name].map((s) => s.cpu));
const bare = wall('node -e 0').median;
console.log(`startup floor: no-op 10-stage pipeline; median (min–max) of ${reps}, alternating; node ${process.version}`);
console.log(`  ${''.padEnd(22)}  wall${''.padEnd(17)}ratio   cpu (user+sys)`);
for (const name of Object.keys(samples)) {
  const w = wall(name);
  console.log(`  ${name.padEnd(22)}${fmt(w)}   ${(w.median / bare).toFixed(2)}×   ${TIME ? fmt(cpu(name)) : 'n/a'}`);
}
console.log(`  snapshots: empty ${mb(empty)}, bundle with run and status evaluated ${mb(snap)}`);
console.log(`  read from the environment while the bundle is evaluated (a snapshot freezes them): ${JSON.parse(readFileSync(join(dir, 'env-read.json'), 'utf8')).join(' ')}`);
rmSync(dir, { recursive: true, force: true });
