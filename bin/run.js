#!/usr/bin/env node
// `node bin/run.js …` (the tests, the benchmarks, a checkout without `npm run link-cli`): the same CLI
// as the `mlpipe` command, bin/mlpipe.cjs, which it loads.
import './mlpipe.cjs';
