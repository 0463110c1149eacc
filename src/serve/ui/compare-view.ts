import { compareRuns } from '../../app/compare/compare-runs.js';
import { findConfusionMatrix, type ArtifactJsonReader } from '../../app/report/confusion-matrix.js';
import type { Tracker } from '../../core/tracker/types.js';
import type { CompareResponse } from './api-types.js';
import type { RunRowSource } from './run-rows.js';

/** What the compare view asks: runs by id (or prefix), or a sweep; and the baseline. */
export interface CompareQuery {
  runs?: string[];
  sweep?: string;
  baseline?: string;
}

/**
 * The compare view's data: exactly what `mlpipe compare runs --json` computes for the same runs
 * and baseline (the same function), each run's confusion matrix, and the runs' table rows.
 */
export async function compareView(tracker: Tracker, source: RunRowSource, readArtifact: ArtifactJsonReader, q: CompareQuery): Promise<CompareResponse> {
  const comparison = await compareRuns(tracker, { refs: q.runs, sweep: q.sweep, baseline: q.baseline });
  const matrices: CompareResponse['matrices'] = [];
  for (const r of comparison.runs) {
    const found = await findConfusionMatrix(await tracker.getMetrics(r.id), await tracker.getArtifacts(r.id), readArtifact);
    if (found) matrices.push({ runId: r.id, shortId: r.shortId, stage: found.stage, matrix: found.matrix });
  }
  const runs = (await Promise.all(comparison.runs.map((r) => tracker.getRun(r.id)))).filter((r) => r !== undefined);
  return { schemaVersion: 1, comparison, matrices, rows: await source.rowsOf(runs) };
}
