import { relative, resolve, sep } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import { hashPath } from '../hash/hash-path.js';
import { refuseExternalInput } from '../fs/external-links.js';
import type { KeyMaterial } from '../cache/key.js';
import { StageCache } from '../cache/stage-cache.js';
import type { Workspace } from '../workspace/workspace.js';
import type { ObjectStore } from '../store/types.js';
import type { PlanDeps } from './plan-run.js';
import { lockedMaterial, type LockIndex } from '../lock/lock-file.js';
import type { ManifestProvenance } from '../cache/manifest.js';
import { resolveModelInput } from '../models/model-input.js';
import { specNodePosition } from '../spec/node-position.js';
import { UserError } from '../../errors.js';
import { discoverCodeFiles } from '../code-deps/discover-code.js';
import { ImportCache } from '../code-deps/import-cache.js';

/** What {@link stageCacheFor} builds on besides the workspace, its store and warnings. */
export interface StageCacheSources {
  /** The lock file: a stage the tracker has no execution of (a fresh clone) is diffed against its locked entry. */
  lock?: LockIndex;
  /** Written into every manifest the run saves (who made it, for teammates who restore it). */
  provenance?: ManifestProvenance;
}

/**
 * The run cache of a workspace for one pipeline: entries in its store (or `store`, e.g. the local
 * cache in front of a remote), each stage's last execution from its tracker, else from the lock file
 * (so a fresh clone says what changed since the lock, not "never run").
 */
export function stageCacheFor(ws: Workspace, spec: PipelineSpec, onWarning?: (message: string) => void, store: ObjectStore = ws.store, sources: StageCacheSources = {}): StageCache {
  return new StageCache(store, {
    onWarning,
    hasher: ws.statCache,
    provenance: sources.provenance,
    history: async (stage) => {
      const last = await ws.tracker.lastStageRun(spec.name, stage);
      if (last?.cacheKey && last.keyMaterial) return { key: last.cacheKey, material: last.keyMaterial as KeyMaterial };
      const locked = sources.lock?.stage(stage);
      return locked ? { key: locked.key, material: lockedMaterial(locked) } : undefined;
    },
  });
}

/**
 * The planner's I/O over a workspace: inputs hashed through the stat cache (refused when a symlink
 * takes them outside the workspace), the code each stage's command runs (its imports remembered in
 * `runs/cache/code-imports.json`), lookups in `cache`, the lock file when there is one.
 */
export function planDepsFor(ws: Workspace, spec: PipelineSpec, cache: StageCache, lock?: LockIndex, onWarning?: (message: string) => void): PlanDeps {
  let imports: Promise<ImportCache> | undefined;
  /** Stages that run the same scripts from the same folder (templates, sweeps) share one discovery. */
  const discovered = new Map<string, Promise<Record<string, string>>>();
  const isOutput = under(spec, workspaceOutputs(spec));
  return {
    codeDigests: async (stage) => {
      const entries = stage.impl.codeEntries?.(stage.config) ?? [];
      if (entries.length === 0) return {};
      const cwd = resolve(spec.dir, stage.impl.workdir?.(stage.config) ?? '.');
      const memo = `${cwd}\0${JSON.stringify(entries)}`;
      let found = discovered.get(memo);
      if (!found) {
        imports ??= ImportCache.open(ws.runsDir);
        const cache = await imports;
        // a stage's own deps are followed like any code file, and left out below (they are keyed already)
        found = discoverCodeFiles(entries, { cwd, root: spec.root ?? spec.dir, hasher: ws.statCache, cache, covered: (abs) => (isOutput(abs) ? 'output' : undefined), onWarning });
        discovered.set(memo, found);
      }
      const isInput = under(spec, stage.inputs);
      return Object.fromEntries(
        Object.entries(await found)
          .filter(([abs]) => !isInput(abs))
          .map(([abs, digest]) => [relative(spec.dir, abs).split(sep).join('/'), digest]),
      );
    },
    inputDigest: async (path) => {
      const abs = resolve(spec.dir, path);
      await refuseExternalInput(spec.root ?? spec.dir, abs, path);
      return (await hashPath(abs, ws.statCache)).digest;
    },
    modelDigest: async (ref, stage) => {
      try {
        return (await resolveModelInput(ws.tracker, ws.runsDir, ref)).digest;
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        const key = Object.keys(stage.config).find((k) => stage.config[k] === ref);
        const where = specNodePosition(spec, stage, key ? [key] : []) ?? `${spec.file}:${stage.pos.line}:${stage.pos.col}`;
        throw new UserError(`${where} stage ${stage.name}${key ? ` ${key}` : ''}: ${err.message}`, { hint: err.hint, cause: err });
      }
    },
    cache,
    ...(lock ? { lock } : {}),
  };
}

/** Whether an absolute path is one of `paths` (spec-relative) or inside one of them. */
function under(spec: PipelineSpec, paths: readonly string[]): (abs: string) => boolean {
  const roots = paths.map((p) => resolve(spec.dir, p));
  return (abs) => roots.some((r) => abs === r || abs.startsWith(r + sep));
}

/** Every stage's workspace outputs (shell outs): code a stage writes is keyed as that stage's output, never followed. */
function workspaceOutputs(spec: PipelineSpec): string[] {
  return Object.values(spec.stages).flatMap((s) =>
    Object.values(s.impl.outputs(s.config))
      .filter((o) => o.location === 'workspace')
      .map((o) => o.path),
  );
}
