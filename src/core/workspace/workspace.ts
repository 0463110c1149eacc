import { resolve } from 'node:path';
import type { Tracker } from '../tracker/types.js';
import type { MaintainableStore } from '../store/types.js';
import { openTracker } from '../tracker/open-tracker.js';
import { openLocalStore } from '../store/local-store.js';
import { StatCache } from '../hash/stat-cache.js';

/** The state folder's parts: tracker, cache store and stat cache. */
export interface Workspace {
  runsDir: string;
  tracker: Tracker;
  store: MaintainableStore;
  statCache: StatCache;
  close(): Promise<void>;
}

/** `--runs-dir`, else MLPIPE_RUNS_DIR, else ./runs of the current directory. */
export function resolveRunsDir(flag?: string): string {
  return resolve(flag ?? process.env.MLPIPE_RUNS_DIR ?? 'runs');
}

export async function openWorkspace(runsDir: string): Promise<Workspace> {
  const tracker = await openTracker(runsDir);
  const store = openLocalStore(runsDir);
  const statCache = await StatCache.open(runsDir);
  return {
    runsDir,
    tracker,
    store,
    statCache,
    async close() {
      try {
        await statCache.save();
      } finally {
        await tracker.close();
      }
    },
  };
}
