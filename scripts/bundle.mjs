// Bundles the compiled commands (dist/) into a few files under dist/bundle/, which is what the CLI
// loads: one ESM file per command plus shared chunks. Loading ~300 small modules cost more than
// a no-op `mlpipe run` itself; native and heavy packages stay external (loaded only when needed).
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const commandsDir = join(root, 'dist', 'commands');
const outdir = join(root, 'dist', 'bundle', 'commands');

const entries = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.js')) entries.push(path);
  }
};
walk(commandsDir);

rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir,
  outbase: commandsDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '../chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __mlpipeCreateRequire } from 'node:module'; const require = __mlpipeCreateRequire(import.meta.url);" },
  external: [
    '@oclif/core',
    'better-sqlite3',
    '@napi-rs/blake-hash',
    '@tensorflow/*',
    'vega',
    'vega-lite',
    'fastify',
    'prom-client',
    'playwright-core',
    'autocannon',
  ],
});
console.log(`bundled ${entries.length} commands into ${relative(root, outdir)}`);
