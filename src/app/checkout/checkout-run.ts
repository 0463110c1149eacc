import { dirname, join } from 'node:path';
import { UserError } from '../../errors.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { openLocalStore } from '../../core/store/local-store.js';
import type { ObjectStore } from '../../core/store/types.js';
import type { KeyMaterial } from '../../core/cache/key.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { restoreOutputs, type OutputTarget } from '../../core/cache/stage-outputs.js';
import { hostname } from 'node:os';
import { acquireLock, acquireWorkspaceLock } from '../../core/workspace-lock.js';
import { hasKernelLocks } from '../../core/flock.js';
import { workspaceLockPath } from '../../core/run/run-pipeline.js';
import { resolveRunRef } from '../compare/resolve-run.js';

/** One output written by `mlpipe checkout`. */
export interface CheckedOutOutput {
  stage: string;
  output: string;
  /** Where it was written: a workspace path for shell outs, else inside the run's folder. */
  path: string;
  digest: string;
}

/** What `mlpipe checkout RUN --json` prints. */
export interface CheckoutResult {
  schemaVersion: 1;
  runId: string;
  pipeline: string;
  restored: CheckedOutOutput[];
  /** Stages whose outputs could not be brought back, and why. */
  skipped: { stage: string; reason: string }[];
}

export interface CheckoutOptions {
  /** Only these stages (default: every completed stage of the run). */
  stages?: string[];
  /** Where objects come from (default: the runs folder's cache). */
  store?: ObjectStore;
  signal?: AbortSignal;
}

/**
 * Brings one run's outputs into the workspace from the cache (DVC's `exp apply`): shell `outs` at
 * their paths in the spec's folder, built-in stages' outputs in `runs/<run>/<stage>/`. Every object
 * is verified before it is written, so the files are byte-identical to what the run produced.
 * Takes the workspace lock, as a run that writes the workspace does.
 */
export async function checkoutRun(runsDir: string, ref: string, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  const tracker = await openExistingTracker(runsDir);
  try {
    const runId = await resolveRunRef(tracker, ref);
    const run = (await tracker.getRun(runId))!;
    const specDir = dirname(run.specPath);
    const stageRuns = await tracker.getStageRuns(runId);
    const unknown = (opts.stages ?? []).filter((s) => !stageRuns.some((r) => r.stage === s));
    if (unknown.length > 0) {
      throw new UserError(`run ${runId} has no stage ${unknown.join(', ')}; its stages: ${stageRuns.map((r) => r.stage).join(', ')}`, { hint: `mlpipe runs show ${runId}` });
    }
    const store = opts.store ?? openLocalStore(runsDir);
    const result: CheckoutResult = { schemaVersion: 1, runId, pipeline: run.pipeline, restored: [], skipped: [] };
    const chosen = stageRuns.filter((r) => !opts.stages || opts.stages.includes(r.stage));
    const unlock = await lockForCheckout(await workspaceLockPath(runsDir, specDir), runId, run.pipeline, opts.signal);
    try {
      for (const sr of chosen) {
        const material = sr.keyMaterial as KeyMaterial | null | undefined;
        if (sr.status !== 'completed' || !sr.cacheKey || !material) {
          result.skipped.push({ stage: sr.stage, reason: `it did not complete in this run (${sr.status})` });
          continue;
        }
        const manifest = await readManifest(store, sr.cacheKey);
        if (!manifest) {
          result.skipped.push({ stage: sr.stage, reason: 'the cache has no entry under its key (a `cache: false` stage, or `mlpipe gc` removed it)' });
          continue;
        }
        const targets: Record<string, OutputTarget> = {};
        for (const name of Object.keys(manifest.outputs)) {
          const [location, ...rest] = (material.outputs[name] ?? '').split(':');
          const path = rest.join(':');
          if (location === 'workspace') targets[name] = { path: join(specDir, path), link: false };
          else if (location === 'stage') targets[name] = { path: join(runsDir, runId, sr.stage, path), link: true };
        }
        const outputs = Object.fromEntries(Object.entries(manifest.outputs).filter(([name]) => targets[name]));
        try {
          await restoreOutputs(store, outputs, targets, { verify: true });
        } catch (err) {
          throw new UserError(`cannot check out stage ${sr.stage} of run ${runId}: ${(err as Error).message}`, {
            hint: 'run mlpipe cache verify, then re-run the pipeline to recreate the missing outputs',
            cause: err,
          });
        }
        for (const [name, out] of Object.entries(outputs)) result.restored.push({ stage: sr.stage, output: name, path: targets[name]!.path, digest: out.digest });
      }
    } finally {
      await unlock();
    }
    return result;
  } finally {
    await tracker.close();
  }
}

/** The workspace lock runs that write the workspace take (kernel locks where flock(1) exists); `runId` names who holds it. */
export async function lockForCheckout(path: string, runId: string, pipeline: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  if (!hasKernelLocks) return acquireLock(path, `checkout ${runId}`, { signal });
  const held = await acquireWorkspaceLock(path, { runId: `checkout ${runId}`, pipeline, pid: process.pid, host: hostname() }, { signal });
  return held.release;
}
