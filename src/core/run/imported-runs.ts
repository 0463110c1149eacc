import type { StageManifest } from '../cache/manifest.js';
import type { KeyMaterial } from '../cache/key.js';
import type { RunRecord, Tracker } from '../tracker/types.js';

/** Tags of a run this tracker knows only from the cache entries it restored (MLflow keeps such facts as `mlflow.*` tags). */
export const IMPORTED_TAG = 'mlpipe.imported';
export const USER_TAG = 'mlpipe.user';

/** Whether the tracker holds the run only as imported from cache entries (it ran elsewhere). */
export function isImportedRun(run: Pick<RunRecord, 'tags'>): boolean {
  return run.tags?.[IMPORTED_TAG] !== undefined;
}

/**
 * Makes a run this tracker never saw known from the cache entry a stage was restored from (a
 * teammate's, through a remote): the run with the entry's provenance (pipeline, host, user, commit,
 * start), and the restored stage as completed there with its final metrics. A run the tracker
 * recorded itself is left alone (resolves true: nothing is imported from it, for any stage);
 * stages already imported are not imported twice.
 */
export async function importRunOf(tracker: Tracker, manifest: StageManifest, stage: { name: string; kind: string; material?: KeyMaterial }, fallbackPipeline: string): Promise<boolean> {
  const p = manifest.provenance;
  let run = await tracker.getRun(manifest.runId);
  if (run && !isImportedRun(run)) return true;
  if (!run) {
    const record: RunRecord = {
      id: manifest.runId,
      pipeline: p?.pipeline ?? fallbackPipeline,
      specPath: '',
      specHash: '',
      status: 'completed',
      startedAt: p?.startedAt ?? manifest.createdAt,
      endedAt: manifest.createdAt,
      params: stage.material?.params ?? {},
      gitCommit: p?.gitCommit ?? null,
      host: p?.host ?? 'unknown',
      pid: 0,
      tags: { [IMPORTED_TAG]: 'cache', ...(p ? { [USER_TAG]: p.user } : {}) },
    };
    try {
      await tracker.createRun(record);
    } catch (err) {
      if (!(await tracker.getRun(manifest.runId))) throw err;
    }
    run = record;
  } else {
    await tracker.updateRun(run.id, {
      params: { ...run.params, ...(stage.material?.params ?? {}) },
      endedAt: Math.max(run.endedAt ?? 0, manifest.createdAt),
    });
  }
  if ((await tracker.getStageRuns(run.id)).some((s) => s.stage === stage.name)) return false;
  await tracker.recordStageRun({
    runId: run.id,
    stage: stage.name,
    kind: stage.kind,
    status: 'completed',
    cacheKey: manifest.key,
    reason: 'ran elsewhere; known here from its cache entry',
    endedAt: manifest.createdAt,
  });
  const points = Object.entries(manifest.metrics).map(([key, value]) => ({ runId: run.id, stage: stage.name, key, step: null, value, time: manifest.createdAt }));
  if (points.length > 0) await tracker.logMetrics(points);
  return false;
}
