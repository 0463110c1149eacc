import type { StageRunRecord, Tracker } from '../../core/tracker/types.js';
import { buildComparison, loadRuns, type Comparison } from './build-comparison.js';
import { checkConditions, type ConditionResult } from './fail-if.js';
import { sweepRuns } from './find-sweep.js';
import { selectRuns, type RunSelection } from './select-runs.js';
import { buildSweepView, type SweepView } from './sweep-view.js';

/** Everything `mlpipe compare runs` was asked. */
export interface CompareOptions extends RunSelection {
  metrics?: string[];
  sort?: string;
  onlyChanged?: boolean;
  /** `--fail-if` conditions. */
  failIf?: string[];
}

/**
 * `mlpipe compare runs --json`: the comparison and how each `--fail-if` condition came out; with
 * `--sweep`/`--last-sweep`, also the sweep's grid and its best point.
 */
export interface CompareResult extends Comparison {
  conditions: ConditionResult[];
  sweep?: SweepView;
}

/**
 * Selects, loads and compares runs, then checks the `--fail-if` conditions (bad input: UserError, exit 2).
 * A sweep's baseline, unless `--baseline` names one, is its first grid point (the smallest value of
 * each axis), not the point that happened to start first: with `--jobs`, points start in any order.
 */
export async function compareRuns(tracker: Tracker, opts: CompareOptions): Promise<CompareResult> {
  const { ids, baseline, sweepId } = await selectRuns(tracker, opts);
  const loaded = await loadRuns(tracker, ids);
  const allIds = await tracker.findRunIds('');
  const compare = (base: string) => buildComparison(loaded, { baseline: base, metrics: opts.metrics, sort: opts.sort, onlyChanged: opts.onlyChanged, allIds });
  let comparison = compare(baseline);
  let sweep: SweepView | undefined;
  if (sweepId !== undefined) {
    const runs = await sweepRuns(tracker, sweepId);
    const stageRuns = new Map<string, StageRunRecord[]>(await Promise.all(runs.map(async (r) => [r.id, await tracker.getStageRuns(r.id)] as const)));
    const input = { sweepId, runs, stageRuns, sort: opts.sort, metrics: opts.metrics };
    const first = buildSweepView(comparison, { ...input, sort: undefined, metrics: undefined }).points[0]?.run;
    if (opts.baseline === undefined && first !== undefined && first !== baseline) comparison = compare(first);
    sweep = buildSweepView(comparison, input);
  }
  const result: CompareResult = { ...comparison, conditions: checkConditions(comparison, opts.failIf ?? [], { baselineGiven: opts.baseline !== undefined }) };
  if (sweep) result.sweep = sweep;
  return result;
}
