#!/usr/bin/env node
// The `mlpipe` command (package.json `bin`, `npm run link-cli`). CommonJS, so node starts it without
// its ES module loader (bin/run.js, an ES module, pays for that loader on every start); it loads the
// bundled CLI (npm run build; scripts/bundle.mjs) from a code cache, one per command.
'use strict';
// mlpipe's package.json states the Node versions it supports; oclif's own engine check would load
// semver (~50 modules) on every start, so it is skipped.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const { join } = require('node:path');
const { requireCached } = require('./code-cache.cjs');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'cli');
// `mlpipe run PIPELINE` and nothing else: a no-op of it is done from the memo its last full no-op run
// wrote, without loading the CLI (src/cli/fast-run.ts); anything else, and any doubt, takes the full path.
const fast = process.argv.length === 4 && process.argv[2] === 'run' && requireCached(join(bundle, 'fast-run.cjs'), 'fast').fastRun(process.argv.slice(3));
if (!fast) {
  const command = /^[a-z][a-z-]*$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
  const { execute } = requireCached(join(bundle, 'mlpipe.cjs'), command);
  execute({ dir: __filename });
}
