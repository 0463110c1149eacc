import { writeFile } from 'node:fs/promises';
import { f, type Infer } from '../schema/fields.js';
import type { DatasetMeta, SplitData, SplitName } from '../ml/dataset.js';
import { stableStringify } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { metricKeyParts } from '../ml/metric-key.js';
import { featureGroups, permutationImportance, type FeatureImportance } from '../ml/permutation-importance.js';
import { lowerIsBetter } from '../ml/score-split.js';
import type { StageContext } from '../core/stage-kind.js';

/** The metrics importance may measure the drop of (evaluate's, flattened). */
export const importanceMetricNames = [
  'accuracy',
  'balanced_accuracy',
  'precision',
  'precision_macro',
  'precision_weighted',
  'recall',
  'recall_macro',
  'recall_weighted',
  'f1',
  'f1_macro',
  'f1_weighted',
  'auc',
  'log_loss',
  'mcc',
  'top_k_accuracy',
  'mse',
  'rmse',
  'mae',
  'r2',
] as const;

/** The resolved `importance` block of an evaluate stage, derived from its declaration below. */
export type ImportanceConfig = Infer<typeof importanceField>;

export const importanceField = f.object(
  'Permutation feature importance on the evaluated split: each input feature (a one-hot or date column as one, a text column as one) is shuffled between rows and the model scored again; its importance is the metric\'s drop, as importance.<feature>.mean and .std over the repeats, and importance.json. Seeded: the same model gives the same figures.',
  {
    repeats: f.int('Shuffles per feature.', { minimum: 1, maximum: 100, default: 5 }),
    metric: f.enum('The metric whose drop is measured (default: accuracy, or r2 for regression); for log_loss, mse, rmse and mae the drop is their increase.', importanceMetricNames),
    seed: f.int('The seed of the shuffles.', { default: 0 }),
  },
);

/** What importance.json holds. */
export interface ImportanceDocument {
  schemaVersion: 1;
  split: SplitName;
  metric: string;
  lowerIsBetter: boolean;
  repeats: number;
  seed: number;
  /** The metric on the split as it is. */
  baseline: number;
  n: number;
  /** Most important first. */
  features: FeatureImportance[];
}

/**
 * Permutation importance of the model scored by `score` (the metrics of `x`'s rows, which are
 * `data`'s with some columns shuffled), written to `file`; returns the metrics
 * `importance.<feature>.mean` and `.std`, and logs the ranking.
 */
export async function evaluateImportance(
  ctx: Pick<StageContext, 'log'>,
  c: ImportanceConfig,
  meta: DatasetMeta,
  data: SplitData,
  split: SplitName,
  score: (x: Float32Array | Int32Array) => Record<string, number>,
  file: string,
): Promise<Record<string, number>> {
  const task = meta.task;
  const metric = c.metric ?? (task === 'regression' ? 'r2' : 'accuracy');
  const regressionOnly = ['mse', 'rmse', 'mae', 'r2'].includes(metric);
  if (regressionOnly !== (task === 'regression')) throw new DataError(`importance.metric ${metric} does not apply to a ${task} task`, { hint: task === 'regression' ? 'use r2, mse, rmse or mae' : 'use accuracy, f1, auc, log_loss…' });
  if (data.n < 2) throw new DataError(`importance shuffles rows between each other; the ${split} split has ${data.n}`, { hint: 'give the preprocess stage a larger test fraction' });
  const width = data.xShape.slice(1).reduce((a, b) => a * b, 1);
  const valueOf = (x: Float32Array | Int32Array) => {
    const v = score(x)[metric];
    if (v === undefined || !Number.isFinite(v)) throw new DataError(`importance.metric ${metric} is undefined on the ${split} split (e.g. auc with one class present)`, { hint: 'choose another importance.metric' });
    return v;
  };
  const lower = lowerIsBetter.has(metric);
  const { baseline, features } = permutationImportance(data.x, data.n, width, featureGroups(meta, width), valueOf, { repeats: c.repeats, seed: c.seed, lowerIsBetter: lower });
  const ranked = [...features].sort((a, b) => b.mean - a.mean || (a.name < b.name ? -1 : 1));
  const doc: ImportanceDocument = { schemaVersion: 1, split, metric, lowerIsBetter: lower, repeats: c.repeats, seed: c.seed, baseline, n: data.n, features: ranked };
  await writeFile(file, `${stableStringify(doc)}\n`);
  const shown = (v: number) => String(Number(v.toPrecision(3)));
  ctx.log(`importance (${metric} ${lower ? 'rise' : 'drop'} over ${c.repeats} shuffles, baseline ${shown(baseline)}): ${ranked.map((f) => `${f.name} ${shown(f.mean)} ± ${shown(f.std)}`).join(', ')}`);
  const keys = metricKeyParts(
    features.map((f) => f.name),
    (a, b, part) => {
      throw new DataError(`the features "${a}" and "${b}" would both be named "importance.${part}" in metrics`, { hint: 'rename one of the columns' });
    },
  );
  const out: Record<string, number> = {};
  for (const feat of features) {
    out[`importance.${keys.get(feat.name)!}.mean`] = feat.mean;
    out[`importance.${keys.get(feat.name)!}.std`] = feat.std;
  }
  return out;
}
