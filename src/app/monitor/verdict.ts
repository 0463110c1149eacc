import type { LiveSummary } from './live-summary.js';

/** When `mlpipe monitor` says to retrain. */
export interface MonitorThresholds {
  /** Largest |z-score| of a numeric feature's mean (how many training stds it moved from the training mean). */
  maxDrift: number;
  /** Largest share of a categorical feature's values that are not a training category. */
  maxUnknown: number;
  /** Fewest rows over which drift is judged (fewer: noted, not judged). */
  minRows: number;
  /** Classification: lowest live accuracy over rows with feedback. */
  minAccuracy?: number;
  /** Regression: largest live mean absolute error over rows with feedback. */
  maxMae?: number;
}

/** Healthy, or the reasons to retrain (each a phrase for `retrain: …`), plus notes on what could not be judged. */
export interface Verdict {
  healthy: boolean;
  reasons: string[];
  notes: string[];
}

const num = (x: number): string => String(Number(x.toPrecision(3)));
const pct = (x: number): string => `${num(x * 100)}%`;
const labeledRows = (n: number): string => `${n} labeled row${n === 1 ? '' : 's'}`;

/** Judges a period's summary against the thresholds. */
export function judge(live: LiveSummary, t: MonitorThresholds): Verdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  if (live.rows < t.minRows) notes.push(`${live.rows} row${live.rows === 1 ? '' : 's'} in the period: input drift is judged from --min-rows ${t.minRows}`);
  else {
    for (const f of live.drift.features) {
      if (f.zScore !== undefined && Math.abs(f.zScore) > t.maxDrift) {
        reasons.push(`${f.feature} drifted: mean ${num(f.recentMean!)} vs ${num(f.trainingMean!)} in training, z-score ${num(f.zScore)} beyond --max-drift ${num(t.maxDrift)}`);
      }
      if (f.unknownRatio !== undefined && f.unknownRatio > t.maxUnknown) {
        reasons.push(`${f.feature}: ${pct(f.unknownRatio)} of the values are categories unseen in training, more than --max-unknown ${num(t.maxUnknown)}`);
      }
    }
  }
  const perf = live.performance;
  const limit = perf?.metric === 'accuracy' ? t.minAccuracy : perf?.metric === 'mae' ? t.maxMae : undefined;
  if (perf && limit !== undefined) {
    if (perf.value === undefined) notes.push(`no prediction of the period got a label (POST /feedback): live ${perf.metric} is not judged`);
    else if (perf.metric === 'accuracy' && perf.value < limit) reasons.push(`live accuracy ${num(perf.value)} over ${labeledRows(perf.labeled)}, below --min-accuracy ${num(limit)}`);
    else if (perf.metric === 'mae' && perf.value > limit) reasons.push(`live MAE ${num(perf.value)} over ${labeledRows(perf.labeled)}, above --max-mae ${num(limit)}`);
  }
  return { healthy: reasons.length === 0, reasons, notes };
}
