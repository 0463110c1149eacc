import { f } from '../schema/fields.js';
import type { SplitData } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { predictionMetrics, subsetPredictions, type ScoreOptions } from '../ml/score-split.js';
import { sliceColumns, sliceMetricsOf } from '../ml/slice-metrics.js';
import type { TensorPredictions } from '../ml/predict.js';
import type { ConfigIssue, StageContext, UpstreamStage } from '../core/stage-kind.js';

export const slicesField = f.array(
  'Columns to score the model apart on, one slice per value (fairness, per-segment quality): every metric per value as slices.<column>.<value>.<metric> (and .n, the rows), and the largest difference between two values as slices.<column>.<metric>_gap, which a deploy gate can read. Each must be in the preprocess stage\'s keep list.',
  f.string('A column the preprocess stage keeps.'),
  { minItems: 1 },
);

/** evaluate `slices` against the preprocess stage its `data` comes from: each column must be in that stage's `keep`. */
export function checkSlices(slices: readonly string[] | undefined, upstreamOf: (key: string) => UpstreamStage | undefined): ConfigIssue[] {
  const up = upstreamOf('data');
  if (!slices || !up || up.kind !== 'preprocess') return [];
  const keep = (up.config.keep as string[] | undefined) ?? [];
  return slices.flatMap((column, i) => {
    if (slices.indexOf(column) !== i) return [{ path: ['slices', i], message: `expected each slice column once, got "${column}" again`, hint: `remove slices[${i}]` }];
    if (keep.includes(column)) return [];
    return [{ path: ['slices', i], message: `expected a column the preprocess stage "${up.name}" keeps (${keep.length ? keep.join(', ') : 'it keeps none'}), got "${column}"`, hint: `add ${column} to stages.${up.name}.with.keep` }];
  });
}

/**
 * The slice metrics of single-target predictions `p` on `data`: `pick` narrows each slice's
 * metrics as evaluate's `metrics` list does. Logs one line per column.
 */
export function evaluateSlices(
  ctx: Pick<StageContext, 'log' | 'specNode'>,
  slices: readonly string[],
  data: SplitData,
  p: TensorPredictions,
  score: ScoreOptions,
  pick: (all: Record<string, number>) => Record<string, number>,
): Record<string, number> {
  const kept = data.kept ?? {};
  slices.forEach((column, i) => {
    if (kept[column]) return;
    const where = ctx.specNode?.(['slices', i]);
    throw new DataError(`slices[${i}] names "${column}", which the dataset does not keep${where ? ` (at ${where})` : ''}`, {
      hint: `add ${column} to the preprocess stage's keep list${Object.keys(kept).length ? ` (it keeps ${Object.keys(kept).join(', ')})` : ''}`,
    });
  });
  const columns = sliceColumns(kept, slices, (rows) => {
    const sub = subsetPredictions(p, data.y, rows);
    return pick(predictionMetrics(sub.p, sub.y, score));
  });
  const shown = (v: number) => String(Number(v.toPrecision(4)));
  for (const c of columns) {
    const main = ['accuracy', 'r2', 'f1', 'rmse'].find((m) => c.gaps[m] !== undefined) ?? Object.keys(c.gaps)[0];
    const parts = c.slices.map((s) => `${s.value || '(missing)'} ${main && s.metrics[main] !== undefined ? shown(s.metrics[main]) : '–'} (n ${s.n})`);
    ctx.log(`slices ${c.column}: ${parts.join(', ')}${main ? `; ${main} gap ${shown(c.gaps[main]!)}` : ''}`);
  }
  return sliceMetricsOf(columns);
}
