// Bundles the compiled commands (dist/) into a few files under dist/bundle/, which is what the CLI
// loads: one ESM file per command plus shared chunks. Loading ~300 small modules cost more than
// a no-op `mlpipe run` itself; native and heavy packages stay external (loaded only when needed).
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const commandsDir = join(root, 'dist', 'commands');
const outdir = join(root, 'dist', 'bundle');

const entries = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.js')) entries.push(path);
  }
};
walk(commandsDir);
// oclif itself is bundled too (its ~150 CommonJS modules were most of a no-op run's start-up):
// bin/run.js loads `execute` from main.js, and the help class is bundled with it.
entries.push(join(root, 'dist', 'cli', 'main.js'), join(root, 'dist', 'cli', 'help.js'));
// The stage process `mlpipe worker` forks for each job (core/queue/stage-process-pool.ts).
entries.push(join(root, 'dist', 'cli', 'stage-child.js'));

rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir,
  outbase: join(root, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS code inside an ESM bundle needs `require`; oclif also reads its own package.json
  // through `__dirname`, which is pointed at its installed folder.
  banner: {
    js: [
      "import { createRequire as __mlpipeCreateRequire } from 'node:module';",
      "import { dirname as __mlpipeDirname } from 'node:path';",
      'const require = __mlpipeCreateRequire(import.meta.url);',
      "const __dirname = __mlpipeDirname(require.resolve('@oclif/core/package.json')) + '/lib';",
    ].join(' '),
  },
  external: [
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
  ],
});
console.log(`bundled ${entries.length - 3} commands and the oclif entry into ${relative(root, outdir)}`);
