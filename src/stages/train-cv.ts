import type { StageContext } from '../core/stage-kind.js';
import { crossValidate, type CrossValidateInput, type CrossValidation } from '../ml/cross-validate.js';
import { DatasetCorruptError } from '../ml/errors.js';

/** The metrics shown in the per-fold log lines (all of them are logged and summarized). */
const HEADLINE = ['accuracy', 'f1_macro', 'auc', 'log_loss', 'rmse', 'mae', 'r2'];

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3));

/**
 * Runs the folds of a cross-validated dataset for a train stage: progress per epoch, a line per
 * fold, each fold's metrics logged as step `fold` of `cv.<metric>`, and a mean ± std summary.
 */
export async function runCrossValidation(ctx: Pick<StageContext<unknown>, 'log' | 'progress' | 'logMetric'>, dataDir: string, input: Omit<CrossValidateInput, 'onEpoch' | 'onFold'> & { folds: Int32Array | undefined }): Promise<CrossValidation> {
  const { folds } = input;
  if (!folds || folds.length !== input.data.xShape[0]) throw new DatasetCorruptError(dataDir, `its meta says ${input.k} folds but the train split has no fold of each row`);
  const cv = await crossValidate({
    ...input,
    folds,
    onEpoch: (fold, log) => ctx.progress(`fold ${fold}/${input.k} epoch ${log.epoch}/${input.fit.epochs} loss ${fmt(log.metrics.loss!)}`),
    onFold: (r) => {
      for (const [key, value] of Object.entries(r.metrics)) ctx.logMetric(`cv.${key}`, value, r.fold);
      ctx.log(`fold ${r.fold}/${input.k}: trained on ${r.trainRows} rows (${r.epochsRun} epochs, best ${r.bestEpoch}), held out ${r.heldOutRows}: ${headline(r.metrics, (v) => fmt(v))}`);
    },
  });
  ctx.log(`cross-validation over ${input.k} folds (mean ± std): ${headline(Object.fromEntries(Object.entries(cv.summary).map(([k, s]) => [k, s.mean])), (v, k) => `${fmt(v)} ± ${fmt(cv.summary[k]!.std)}`)}`);
  return cv;
}

function headline(metrics: Record<string, number>, show: (v: number, key: string) => string): string {
  const keys = HEADLINE.filter((k) => metrics[k] !== undefined);
  return (keys.length ? keys : Object.keys(metrics).slice(0, 4)).map((k) => `${k} ${show(metrics[k]!, k)}`).join(', ');
}
