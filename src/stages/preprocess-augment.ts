import type { StageContext } from '../core/stage-kind.js';
import type { AugmentConfig, AugmentReport } from '../ml/augment/augment-split.js';

/** Augments the train split a preprocess stage wrote, and logs what changed: the steps, and the rows per class before → after. */
export async function augmentTrainSplit(ctx: Pick<StageContext<{ split: { seed: number } }>, 'log' | 'outputs' | 'config'>, config: AugmentConfig): Promise<AugmentReport> {
  const { augmentDataset } = await import('../ml/augment/augment-dataset.js');
  const report = await augmentDataset(ctx.outputs.dataset!, config, ctx.config.split.seed);
  const perClass = report.labels ? ` (${report.labels.map((l, i) => `${l} ${report.before![i]} → ${report.after![i]}`).join(', ')})` : '';
  ctx.log(`augment: ${report.steps.join('; ')}`);
  ctx.log(`augment: train rows ${report.rowsBefore} → ${report.rowsAfter}${perClass}; validation and test untouched`);
  return report;
}

/** `augment.rows_before`, `augment.rows_after`, and per class `augment.before.<label>` / `augment.after.<label>`. */
export function augmentMetrics(r: AugmentReport): Record<string, number> {
  const out: Record<string, number> = { 'augment.rows_before': r.rowsBefore, 'augment.rows_after': r.rowsAfter };
  r.labels?.forEach((label, i) => {
    out[`augment.before.${label}`] = r.before![i]!;
    out[`augment.after.${label}`] = r.after![i]!;
  });
  return out;
}
