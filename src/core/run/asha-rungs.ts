/** Which way the search's objective improves. */
export type SearchDirection = 'max' | 'min';

/** Successive halving (ASHA): the first rung and the factor between rungs. */
export interface AshaSettings {
  /** The epoch of the first decision (`--min-epochs`). */
  minEpochs: number;
  /** Keep about 1 in `reduction` trials at each rung; rungs are `reduction` times further apart (`--reduction`). */
  reduction: number;
}

/** The epochs at which a trial of `maxEpochs` epochs is judged: minEpochs·reduction^k, below maxEpochs (the last epoch needs no decision). */
export function rungEpochs(settings: AshaSettings, maxEpochs: number): number[] {
  const rungs: number[] = [];
  for (let e = settings.minEpochs; e < maxEpochs; e *= settings.reduction) rungs.push(e);
  return rungs;
}

/**
 * Whether a trial whose objective is `value` at a rung goes on to the next one, `values` being every
 * value recorded at that rung by the trials it is judged against, its own included. The top
 * ⌊n / reduction⌋ of the n values go on (ties with the last of them too); while fewer than
 * `reduction` trials reached the rung, only the best so far does (as Optuna's successive halving
 * pruner). A value that is not a number never goes on.
 */
export function promotes(value: number, values: readonly number[], reduction: number, direction: SearchDirection): boolean {
  if (Number.isNaN(value)) return false;
  const ranked = values.filter((v) => !Number.isNaN(v)).sort((a, b) => (direction === 'max' ? b - a : a - b));
  const keep = Math.max(1, Math.floor(values.length / reduction));
  const bar = ranked[Math.min(keep, ranked.length) - 1]!;
  return direction === 'max' ? value >= bar : value <= bar;
}
