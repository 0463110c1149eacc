import { resolve } from 'node:path';
import type { Tracker } from './tracker/types.js';
import type { ObjectStore } from './store/types.js';
import { openTracker } from './tracker/open-tracker.js';
import { LocalObjectStore } from './store/local-store.js';
import { StatCache } from './hash/stat-cache.js';
import { hashPath } from './hash/hash-path.js';
import { outputsAvailable } from './cache/stage-outputs.js';
import type { PlanDeps } from './run/plan-run.js';
import type { KeyMaterial } from './cache/key-material.js';
import type { PipelineSpec } from './spec/types.js';

/** The state folder's parts: tracker, cache store and stat cache. */
export interface Workspace {
  runsDir: string;
  tracker: Tracker;
  store: ObjectStore;
  statCache: StatCache;
  close(): Promise<void>;
}

/** `--runs-dir`, else MLPIPE_RUNS_DIR, else ./runs of the current directory. */
export function resolveRunsDir(flag?: string): string {
  return resolve(flag ?? process.env.MLPIPE_RUNS_DIR ?? 'runs');
}

export async function openWorkspace(runsDir: string, onWarning: (message: string) => void = () => {}): Promise<Workspace> {
  const tracker = openTracker(runsDir);
  const store = new LocalObjectStore(runsDir, { onWarning });
  const statCache = await StatCache.open(runsDir);
  return {
    runsDir,
    tracker,
    store,
    statCache,
    async close() {
      await statCache.save();
      tracker.close();
    },
  };
}

/** The planner's I/O, over a workspace, for one pipeline. */
export function planDepsFor(ws: Workspace, spec: PipelineSpec): PlanDeps {
  return {
    inputDigest: async (path) => (await hashPath(resolve(spec.dir, path), ws.statCache)).digest,
    manifest: (key) => ws.store.getManifest(key),
    outputsAvailable: (m) => outputsAvailable(ws.store, m.outputs),
    lastExecution: (stage) => {
      const last = ws.tracker.lastStageRun(spec.name, stage);
      return last?.cacheKey && last.keyMaterial ? { key: last.cacheKey, material: last.keyMaterial as KeyMaterial } : undefined;
    },
  };
}
