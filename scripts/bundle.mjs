// Bundles the compiled CLI (dist/) into what bin/mlpipe.cjs loads, because loading code, not running it,
// was most of a no-op `mlpipe run`:
// - dist/bundle/cli/mlpipe.cjs: oclif, every command and the help class in one CommonJS file. One file
//   instead of ~60 chunks (or ~300 modules) saves the module loader's resolving and linking, and
//   CommonJS lets bin/mlpipe.cjs compile it with a V8 code cache (bin/code-cache.cjs), which Node 20 has
//   no way to do for ES modules. Each command sits behind a lazy initialiser, so a command's code
//   runs only when oclif asks for that command.
// - dist/bundle/cli/stage-child.js: the stage process `mlpipe worker` forks for each job
//   (core/queue/stage-process-pool.ts), an ES module with its chunks.
// Native and heavy packages stay external (loaded only when needed).
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const dist = join(root, 'dist');
const commandsDir = join(dist, 'commands');
const outdir = join(dist, 'bundle');

const commandFiles = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.js')) commandFiles.push(path);
  }
};
walk(commandsDir);
commandFiles.sort();

/** oclif's command id for a file under dist/commands, as its `pattern` strategy names it (`config/index.js` is `config`). */
const commandId = (file) => {
  const parts = relative(commandsDir, file).replace(/\.js$/, '').split(sep);
  if (parts.at(-1) === 'index') parts.pop();
  return parts.join(':');
};

const external = [
  'typescript',
  'ts-node',
  'better-sqlite3',
  '@napi-rs/blake-hash',
  '@tensorflow/*',
  'vega',
  'vega-lite',
  'fastify',
  'prom-client',
  'playwright-core',
  'autocannon',
  'sharp',
  // The PostgreSQL driver: loaded only for a postgresql:// tracker.
  'pg',
  'pg-native',
  'bullmq',
  'ioredis',
  // The AWS SDK: loaded only for an s3:// remote (core/store/s3-store.ts).
  '@aws-sdk/*',
  '@smithy/*',
  // DuckDB (native): loaded only when a sql stage runs (ml/sql-engine.ts).
  '@duckdb/*',
];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  external,
  // Parsing is much of what loading costs: whitespace and comments (a third of kysely) go; names
  // stay, so stack traces and `constructor.name` read as before.
  minifyWhitespace: true,
  minifySyntax: true,
};

rmSync(outdir, { recursive: true, force: true });
// Stamped into both CLI bundles: a no-op memo (core/run/run-memo.ts) is served only by the build that wrote it.
const buildStamp = JSON.stringify(`${Date.now().toString(36)}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 10)}`);

// The CLI. `package.json` points oclif at COMMANDS (its `explicit` strategy) and at the help class;
// oclif reads command metadata from oclif.manifest.json and takes only the command it runs from here.
const entry = [
  "export { execute } from './cli/main.js';",
  "export { default as Help } from './cli/help.js';",
  'export const COMMANDS = {',
  ...commandFiles.map((f) => `  get ${JSON.stringify(commandId(f))}() { return require(${JSON.stringify(`./${relative(dist, f).split(sep).join('/')}`)}).default; },`),
  '};',
].join('\n');
/**
 * `import(x)` of a package (vega, TensorFlow.js, pg, …) becomes `__mlpipeImport(x)`: node 20 runs no
 * dynamic import from a script compiled from a code cache ("A dynamic import callback was not
 * specified"), so bin/code-cache.cjs supplies one; loaded by plain `require`, the bundle uses its own.
 * Relative imports are left to esbuild, which bundles them.
 */
const isExternal = (specifier) => external.some((e) => (e.endsWith('/*') ? specifier.startsWith(e.slice(0, -1)) : specifier === e || specifier.startsWith(`${e}/`)));
const dynamicImports = {
  name: 'dynamic-imports',
  setup(b) {
    b.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import(')) return undefined;
      const contents = source.replace(/(?<![\w$."'`])import\((\s*(['"`])([^'"`]*)\2)?/g, (call, literal, _q, specifier) =>
        literal === undefined || isExternal(specifier) ? `__mlpipeImport(${literal ?? ''}` : call,
      );
      return { contents, loader: 'js' };
    });
  },
};
await build({
  ...common,
  stdin: { contents: entry, resolveDir: dist, sourcefile: 'cli/mlpipe-entry.js', loader: 'js' },
  outfile: join(outdir, 'cli', 'mlpipe.cjs'),
  format: 'cjs',
  plugins: [dynamicImports],
  // Code written as ES modules reads its own location from import.meta.url; oclif (CommonJS) reads
  // its package.json through __dirname, pointed at its installed folder on first use (the look-up
  // walks node_modules).
  banner: {
    js: [
      "const __mlpipeModuleUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __mlpipeOclif = { get dir() { return (this.d ??= require('node:path').dirname(require.resolve('@oclif/core/package.json')) + '/lib'); } };",
      'const __mlpipeImport = globalThis.__mlpipeImport ?? ((specifier) => import(specifier));',
    ].join(' '),
  },
  define: { 'import.meta.url': '__mlpipeModuleUrl', __dirname: '__mlpipeOclif.dir', __MLPIPE_BUILD__: buildStamp },
});

// The fast path of a no-op `mlpipe run PIPELINE` (cli/fast-run.ts), loaded by bin/mlpipe.cjs before the CLI: small, so
// that a run it serves does not pay for loading oclif and every command.
await build({
  ...common,
  entryPoints: [join(dist, 'cli', 'fast-run.js')],
  outfile: join(outdir, 'cli', 'fast-run.cjs'),
  format: 'cjs',
  // better-sqlite3's JavaScript is bundled (compiled from the code cache with the rest); its addon is
  // loaded by path (core/run/run-memo-tracker.ts), so `bindings`, which searches for it, is never loaded.
  external: ['bindings'],
  banner: { js: "const __mlpipeModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__mlpipeModuleUrl', __MLPIPE_BUILD__: buildStamp },
});
// oclif loads `helpClass` by path; this one shares the bundle's oclif.
writeFileSync(join(outdir, 'cli', 'help.cjs'), "module.exports = require('./mlpipe.cjs').Help;\n");

await build({
  ...common,
  entryPoints: [join(dist, 'cli', 'stage-child.js')],
  outdir,
  outbase: dist,
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS code inside an ESM bundle needs `require`.
  banner: { js: "import { createRequire as __mlpipeCreateRequire } from 'node:module'; const require = __mlpipeCreateRequire(import.meta.url);" },
});
console.log(`bundled ${commandFiles.length} commands and oclif into ${relative(root, join(outdir, 'cli', 'mlpipe.cjs'))}, the stage process into ${relative(root, join(outdir, 'cli', 'stage-child.js'))}`);
