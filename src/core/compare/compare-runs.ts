import type { Tracker } from '../tracker/types.js';
import { buildComparison, loadRuns, type Comparison } from './build-comparison.js';
import { checkConditions, type ConditionResult } from './fail-if.js';
import { selectRuns, type RunSelection } from './select-runs.js';

/** Everything `mlpipe compare runs` was asked. */
export interface CompareOptions extends RunSelection {
  metrics?: string[];
  sort?: string;
  onlyChanged?: boolean;
  /** `--fail-if` conditions. */
  failIf?: string[];
}

/** `mlpipe compare runs --json`: the comparison and how each `--fail-if` condition came out. */
export interface CompareResult extends Comparison {
  conditions: ConditionResult[];
}

/** Selects, loads and compares runs, then checks the `--fail-if` conditions (bad input: UserError, exit 2). */
export function compareRuns(tracker: Tracker, opts: CompareOptions): CompareResult {
  const { ids, baseline } = selectRuns(tracker, opts);
  const comparison = buildComparison(loadRuns(tracker, ids), {
    baseline,
    metrics: opts.metrics,
    sort: opts.sort,
    onlyChanged: opts.onlyChanged,
    allIds: tracker.findRunIds(''),
  });
  return { ...comparison, conditions: checkConditions(comparison, opts.failIf ?? []) };
}
