#!/usr/bin/env node
// mlpipe's package.json states the Node versions it supports; oclif's own engine check would load
// semver (~50 modules) on every start, so it is skipped.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const { execute } = await import('@oclif/core');

await execute({ dir: import.meta.url });
