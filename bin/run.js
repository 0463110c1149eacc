#!/usr/bin/env node
// mlpipe's package.json states the Node versions it supports; oclif's own engine check would load
// semver (~50 modules) on every start, so it is skipped.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
// The bundled oclif entry (npm run build); see scripts/bundle.mjs.
const { execute } = await import('../dist/bundle/cli/main.js');

await execute({ dir: import.meta.url });
