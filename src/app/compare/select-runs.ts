import { UserError } from '../../errors.js';
import type { Tracker } from '../../core/tracker/types.js';
import { lastSweepId, resolveSweepRef, sweepRuns } from './find-sweep.js';
import { resolveRunRef } from './resolve-run.js';

/** What `mlpipe compare runs` was asked to compare. */
export interface RunSelection {
  /** Run ids or prefixes (or MODEL@ALIAS); none: the last runs of a pipeline. */
  refs?: string[];
  /** How many of the newest runs when none are named. Default 5. */
  last?: number;
  /** The pipeline whose runs `--last` takes; default: that of the newest run. */
  pipeline?: string;
  /** The run deltas are measured against; default: the first named, or the oldest. */
  baseline?: string;
  /** Compare the runs of this sweep (id or unambiguous prefix). */
  sweep?: string;
  /** Compare the runs of the newest sweep (of `pipeline`, when given). */
  lastSweep?: boolean;
  /** The newest `last` (default {@link DEFAULT_FILTER_LAST}) runs matching this run-search condition (runs list --filter), of `pipeline` when given. */
  filter?: string;
}

export const DEFAULT_FILTER_LAST = 20;

export const DEFAULT_LAST = 5;

/**
 * The run ids to compare (baseline included, first when it was not among them), the baseline's id,
 * and the sweep's id when a sweep was asked for.
 */
export async function selectRuns(tracker: Tracker, sel: RunSelection): Promise<{ ids: string[]; baseline: string; sweepId?: string }> {
  let ids: string[];
  let sweepId: string | undefined;
  if (sel.sweep !== undefined || sel.lastSweep) {
    if (sel.sweep !== undefined && sel.lastSweep) throw new UserError('give --sweep ID or --last-sweep, not both');
    if (sel.filter !== undefined) throw new UserError('compare a sweep or give --filter, not both');
    if (sel.refs?.length || sel.last !== undefined) throw new UserError(`name runs or give --last, or compare a sweep with ${sel.lastSweep ? '--last-sweep' : '--sweep'}, not both`);
    sweepId = sel.sweep !== undefined ? await resolveSweepRef(tracker, sel.sweep) : await lastSweepId(tracker, sel.pipeline);
    ids = (await sweepRuns(tracker, sweepId)).map((r) => r.id);
  } else if (sel.filter !== undefined) {
    if (sel.refs?.length) throw new UserError('name runs or give --filter, not both');
    ids = (await tracker.listRuns({ pipeline: sel.pipeline, where: sel.filter, limit: sel.last ?? DEFAULT_FILTER_LAST })).map((r) => r.id).reverse();
    if (ids.length === 0) throw new UserError(`no run matches --filter "${sel.filter}"${sel.pipeline ? ` in pipeline "${sel.pipeline}"` : ''}`, { hint: 'try the filter with: mlpipe runs list --filter "…"' });
  } else if (sel.refs?.length) {
    if (sel.last !== undefined) throw new UserError('name runs or give --last, not both');
    ids = [...new Set(await Promise.all(sel.refs.map((r) => resolveRunRef(tracker, r))))];
  } else {
    const pipeline = sel.pipeline ?? (await tracker.listRuns({ limit: 1 }))[0]?.pipeline;
    if (pipeline === undefined) throw new UserError('the tracker has no runs yet', { hint: 'run a pipeline first: mlpipe run pipeline.yaml' });
    ids = (await tracker.listRuns({ pipeline, limit: sel.last ?? DEFAULT_LAST })).map((r) => r.id).reverse();
    if (ids.length === 0) {
      const names = [...new Set((await tracker.listRuns({ limit: 200 })).map((r) => r.pipeline))].sort();
      throw new UserError(`no runs of pipeline "${pipeline}"; pipelines with runs: ${names.join(', ')}`);
    }
  }
  const baseline = sel.baseline ? await resolveRunRef(tracker, sel.baseline) : ids[0];
  if (!ids.includes(baseline)) ids.unshift(baseline);
  return { ids, baseline, ...(sweepId === undefined ? {} : { sweepId }) };
}
