import { Flags } from '@oclif/core';
import { UserError } from '../errors.js';
import { directionOf } from '../app/compare/metric-names.js';
import type { SearchSettings } from '../core/run/asha-search.js';
import type { SearchDirection } from '../core/run/asha-rungs.js';

/** `run --search asha` and its settings (a sweep's trials pruned early by their validation metric). */
export const searchFlags = {
  search: Flags.string({
    description: 'Model-based search over the sweep\'s trials: asha (successive halving) stops the trials whose validation metric ranks low at each rung (epochs min-epochs·reduction^k) and keeps about one in --reduction. Local executor only.',
    options: ['asha'],
    dependsOn: ['sweep'],
    helpGroup: 'SEARCH',
  }),
  objective: Flags.string({ description: 'The validation metric the search ranks trials by: a val_* metric the train stage logs per epoch (STAGE.val_… with several train stages; default: val_accuracy, else val_f1, …, else val_loss).', dependsOn: ['search'], helpGroup: 'SEARCH' }),
  direction: Flags.string({ description: 'Whether a higher or a lower objective is better (default: lower for losses and errors, else higher).', options: ['max', 'min'], dependsOn: ['search'], helpGroup: 'SEARCH' }),
  'min-epochs': Flags.integer({ description: 'The epoch of the first rung: no trial is pruned before it (default 1).', min: 1, dependsOn: ['search'], helpGroup: 'SEARCH' }),
  reduction: Flags.integer({ description: 'Keep about 1 in N trials at each rung; rungs are N times further apart (default 3).', min: 2, max: 100, dependsOn: ['search'], helpGroup: 'SEARCH' }),
};

/** The sweep's search from the flags above; undefined without --search. A UserError for settings it cannot use. */
export function searchOf(
  flags: { search?: string; objective?: string; direction?: string; 'min-epochs'?: number; reduction?: number },
  executor: string,
): { settings: SearchSettings; directionOf: (metric: string) => SearchDirection } | undefined {
  if (flags.search === undefined) return undefined;
  if (executor === 'queue') {
    throw new UserError('--search asha needs the local executor: a rung decision has to reach the trial while it trains, and queue workers train out of reach', { hint: 'run the search here (--executor local, with --jobs N for trials at once), or a random search (--trials N) on the queue' });
  }
  const objective = flags.objective;
  const key = objective?.slice(objective.indexOf('.') + 1);
  if (key !== undefined && !key.startsWith('val_')) {
    throw new UserError(`--objective ${objective}: the search ranks trials on validation data, so the objective is a val_* metric`, { hint: `e.g. --objective val_${key}; the test split is for the evaluate stage, never for selection` });
  }
  return {
    settings: { method: 'asha', objective, direction: flags.direction as SearchDirection | undefined, minEpochs: flags['min-epochs'] ?? 1, reduction: flags.reduction ?? 3 },
    directionOf: (metric) => (directionOf(metric) === 'lower' ? 'min' : 'max'),
  };
}
