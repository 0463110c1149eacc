import { f, type Infer } from '../schema/fields.js';
import { GateFailedError } from '../errors.js';
import type { ConfigIssue, StageContext } from '../core/stage-kind.js';
import { loadTf } from '../ml/backend.js';
import { readDataset, readMeta } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { quantizations, quantizeModel } from '../ml/quantize.js';
import { lowerIsBetter, scoreModel } from '../ml/score-split.js';

/** The keys of a deploy stage's `with` block that quantize the model it registers (and `model`, the model quantized). */
export type QuantizeConfig = { model: string } & Infer<{ type: 'object'; properties: typeof quantizeFields }>;

/** The schema of those keys, spread into the deploy stage's config. */
export const quantizeFields = {
  quantize: f.enum('Registers the model with its float32 weights quantized (TensorFlow.js weight quantization): float16 (half the size) or uint8 (a quarter; affine per tensor). The size before and after and the metric on the test split before and after are recorded as metrics.', quantizations),
  data: f.path('With quantize: the dataset the model was trained on (usually ${stages.prepare.outputs.dataset}); the original and the quantized model are scored on its test split (validation when it has none).'),
  quantize_metric: f.string('With quantize: the metric compared (any that evaluate reports for the task, e.g. accuracy, f1_macro, log_loss, rmse); default accuracy, or r2 for a regression.'),
  max_metric_drop: f.number('With quantize: the most quantize_metric may get worse (fall, or rise for a loss or an error) on that split; more fails the deploy (exit 3) and registers nothing.', { minimum: 0 }),
};

/** Spec-time checks: the quantize keys come together. */
export function checkQuantize(c: QuantizeConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.quantize && c.data === undefined) issues.push({ path: ['data'], message: 'quantize scores the quantized model against the original on the test split, which needs the dataset', hint: 'add data: ${stages.prepare.outputs.dataset}' });
  for (const key of ['max_metric_drop', 'quantize_metric'] as const) {
    if (c[key] !== undefined && !c.quantize) issues.push({ path: [key], message: `${key} applies to a quantized deploy; quantize is not set`, hint: 'add quantize: float16 or quantize: uint8, or remove it' });
  }
  return issues;
}

const num = (v: number) => String(Number(v.toPrecision(4)));

/**
 * Quantizes `ctx.config.model` into `dest`, scores both on the dataset's test split, logs and returns
 * the size and metric change as metrics (`size_before_bytes`, `accuracy_after`, `accuracy_drop`, …), and
 * fails with a GateFailedError when the drop exceeds `max_metric_drop`.
 */
export async function quantizeForDeploy(ctx: StageContext<QuantizeConfig>, dest: string): Promise<{ metrics: Record<string, number>; record: Record<string, unknown> }> {
  const c = ctx.config;
  const dtype = c.quantize!;
  const dsMeta = await readMeta(c.data!);
  const split = (['test', 'validation'] as const).find((s) => s in dsMeta.splits);
  if (!split) throw new DataError('the dataset has no test or validation split to score the quantized model on', { file: c.data, hint: 'give the preprocess stage a test fraction (split: { test: 0.2 })' });
  const data = (await readDataset(c.data!, [split])).splits[split]!;
  const size = await quantizeModel(c.model, dest, dtype);
  const { tf } = await loadTf(ctx.backend);
  const before = await scoreModel(tf, c.model, data);
  const after = await scoreModel(tf, dest, data);
  const metric = c.quantize_metric ?? ('r2' in before ? 'r2' : 'accuracy');
  if (!(metric in before)) throw new DataError(`quantize_metric ${metric} is not a metric of this model`, { hint: `choose from ${Object.keys(before).sort().join(', ')}` });
  const drop = lowerIsBetter.has(metric) ? after[metric]! - before[metric]! : before[metric]! - after[metric]!;
  const pct = (a: number, b: number) => `${Math.round((100 * a) / b)}%`;
  ctx.log(`quantize ${dtype}: ${size.weights} weights; weights file ${size.weightBytesBefore} → ${size.weightBytesAfter} bytes (${pct(size.weightBytesAfter, size.weightBytesBefore)}), model folder ${size.bytesBefore} → ${size.bytesAfter} bytes (${pct(size.bytesAfter, size.bytesBefore)}); ${metric} on the ${split} split (${data.n} rows) ${num(before[metric]!)} → ${num(after[metric]!)}`);
  const metrics = {
    size_before_bytes: size.bytesBefore,
    size_after_bytes: size.bytesAfter,
    weights_before_bytes: size.weightBytesBefore,
    weights_after_bytes: size.weightBytesAfter,
    [`${metric}_before`]: before[metric]!,
    [`${metric}_after`]: after[metric]!,
    [`${metric}_drop`]: drop,
  };
  const max = c.max_metric_drop;
  if (max !== undefined && drop > max + 1e-12) {
    throw new GateFailedError(`max_metric_drop ${max}`, { [`${metric}_drop`]: drop }, `quantize ${dtype}: ${metric} on the ${split} split got worse by ${num(drop)} (${num(before[metric]!)} → ${num(after[metric]!)}), more than max_metric_drop ${max}; nothing was registered\n  hint: quantize to float16, raise max_metric_drop, or deploy without quantize`);
  }
  if (max !== undefined) ctx.log(`quantize gate passed: ${metric} drop ${num(drop)} <= max_metric_drop ${max}`);
  return { metrics, record: { dtype, split, metric, ...metrics, ...(max !== undefined ? { max_metric_drop: max } : {}) } };
}
