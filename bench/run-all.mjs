// Runs every benchmark in this folder, one after another (`npm run bench`; `npm run build` first).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = ['noop-run.mjs', 'startup-floor.mjs', 'noop-restore.mjs', 'hash.mjs', 'tracker-metrics.mjs', 'compare.mjs', 'compare-trackers.mjs', 'train-throughput.mjs', 'serve-load.mjs', 'ui-load.mjs', 'remote-push.mjs'];
let failed = 0;
for (const bench of benches) {
  console.log(`\n== ${bench}`);
  const r = spawnSync(process.execPath, [join(here, bench)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
