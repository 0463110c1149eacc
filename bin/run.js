#!/usr/bin/env node
// mlpipe's package.json states the Node versions it supports; oclif's own engine check would load
// semver (~50 modules) on every start, so it is skipped.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
import { fileURLToPath } from 'node:url';
import { requireCached } from './code-cache.js';

// The bundled CLI (npm run build; scripts/bundle.mjs), compiled from a code cache, one per command.
const command = /^[a-z][a-z-]*$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
const { execute } = requireCached(fileURLToPath(new URL('../dist/bundle/cli/mlpipe.cjs', import.meta.url)), command);

await execute({ dir: import.meta.url });
