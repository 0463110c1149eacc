import { resolve } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import { hashPath } from '../hash/hash-path.js';
import { refuseExternalInput } from '../fs/external-links.js';
import type { KeyMaterial } from '../cache/key.js';
import { StageCache } from '../cache/stage-cache.js';
import type { Workspace } from '../workspace/workspace.js';
import type { ObjectStore } from '../store/types.js';
import type { PlanDeps } from './plan-run.js';

/** The run cache of a workspace for one pipeline: entries in its store (or `store`, e.g. the local cache in front of a remote), history from its tracker. */
export function stageCacheFor(ws: Workspace, spec: PipelineSpec, onWarning?: (message: string) => void, store: ObjectStore = ws.store): StageCache {
  return new StageCache(store, {
    onWarning,
    history: async (stage) => {
      const last = await ws.tracker.lastStageRun(spec.name, stage);
      return last?.cacheKey && last.keyMaterial ? { key: last.cacheKey, material: last.keyMaterial as KeyMaterial } : undefined;
    },
  });
}

/** The planner's I/O over a workspace: inputs hashed through the stat cache (refused when a symlink takes them outside the workspace), lookups in `cache`. */
export function planDepsFor(ws: Workspace, spec: PipelineSpec, cache: StageCache): PlanDeps {
  return {
    inputDigest: async (path) => {
      const abs = resolve(spec.dir, path);
      await refuseExternalInput(spec.dir, abs, path);
      return (await hashPath(abs, ws.statCache)).digest;
    },
    cache,
  };
}
