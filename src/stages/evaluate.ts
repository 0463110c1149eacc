import { writeFile } from 'node:fs/promises';
import { f, type Infer } from '../schema/fields.js';
import { loadTf } from '../ml/backend.js';
import { readDataset, readMeta, stableStringify, type SplitData, type SplitName } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { confusionMatrix } from '../ml/metrics.js';
import { predictionMetrics } from '../ml/score-split.js';
import { loadModel, readModelMeta, type ModelMeta } from '../ml/model-io.js';
import { column, multiTargetMetrics } from '../ml/target-metrics.js';
import { predictTensor, type TensorPredictions } from '../ml/predict.js';
import type { StageKind } from '../core/stage-kind.js';
import { confusionCells } from '../core/tracker/confusion-cells.js';
import { csvField } from '../core/csv-field.js';
import { checkSlices, evaluateSlices, slicesField } from './evaluate-slices.js';
import { evaluateImportance, importanceField, type ImportanceConfig } from './evaluate-importance.js';

/** Metric families a spec may list; each selects its flattened forms (`f1` → f1, f1_macro, f1_weighted). */
export const classificationMetricNames = ['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'auc', 'log_loss', 'mcc', 'top_k_accuracy'] as const;
export const regressionMetricNames = ['mse', 'rmse', 'mae', 'r2'] as const;

/** The resolved `with` block of an evaluate stage, derived from its declaration below. */
export type EvaluateConfig = Infer<typeof config>;

const config = f.object(
  'Scores a trained model on a dataset split and writes metrics.json, predictions.csv and confusion_matrix.json.',
  {
    model: f.path('The trained model folder, usually ${stages.train.outputs.model}.'),
    data: f.path('The dataset folder, usually ${stages.prepare.outputs.dataset}.'),
    split: f.enum('The split scored; when the dataset lacks it, the next of test → validation → train is used.', ['test', 'validation', 'train'], { default: 'test' }),
    metrics: f.array(
      'Metrics to report (default: all for the task). precision, recall and f1 include their _macro and _weighted forms.',
      f.enum('A metric.', [...classificationMetricNames, ...regressionMetricNames], { aliases: { roc_auc: 'auc', matthews_corrcoef: 'mcc', top_k: 'top_k_accuracy', acc: 'accuracy' }, ignoreCase: true }),
      { minItems: 1 },
    ),
    threshold: f.number('Binary tasks: predict class 1 when its probability is at least this (accuracy, precision, recall, f1, mcc and predictions.csv follow it; auc and log_loss do not depend on it).', { exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 }),
    top_k: f.int('top_k_accuracy: a hit when the true class is among this many most probable ones.', { minimum: 1, default: 2 }),
    slices: slicesField,
    importance: importanceField,
  },
  { required: ['model', 'data'] },
);

const fallbackOrder: SplitName[] = ['test', 'validation', 'train'];

function pickMetrics(all: Record<string, number>, wanted: string[] | undefined, task: string): Record<string, number> {
  if (!wanted) return all;
  const valid: readonly string[] = task === 'regression' ? regressionMetricNames : classificationMetricNames;
  const wrong = wanted.filter((m) => !valid.includes(m));
  if (wrong.length > 0) throw new DataError(`metric(s) ${wrong.join(', ')} do not apply to a ${task} task`, { hint: `choose from ${valid.join(', ')}` });
  return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.some((w) => k === w || k.startsWith(`${w}_`))));
}

const num = (v: number): string => String(Number(v.toPrecision(7)));

/** Where each scored sample came from: its 1-based data row in the source file, and its id when the dataset has an id column. */
export interface SampleOrigin {
  sourceRows?: Int32Array;
  idColumn?: string;
  ids?: string[];
}

/**
 * predictions.csv: `row,source_row[,<id>],actual,predicted,p_<label>…` (classification) or
 * `…,actual,predicted,error` (regression). `row` is the index in the split, `source_row` the data
 * row in the preprocess input (row 1: the first after the header), so errors can be joined back.
 */
export function predictionsCsv(p: TensorPredictions, y: Float32Array, labels: string[] | undefined, origin: SampleOrigin = {}): string {
  const lines: string[] = [];
  const lead = ['row', ...(origin.sourceRows ? ['source_row'] : []), ...(origin.ids && origin.idColumn ? [csvField(origin.idColumn)] : [])];
  const leadOf = (i: number) => [String(i), ...(origin.sourceRows ? [String(origin.sourceRows[i])] : []), ...(origin.ids && origin.idColumn ? [csvField(origin.ids[i] ?? '')] : [])];
  if (p.values) {
    lines.push([...lead, 'actual', 'predicted', 'error'].join(','));
    for (let i = 0; i < p.n; i++) lines.push([...leadOf(i), num(y[i]!), num(p.values[i]!), num(p.values[i]! - y[i]!)].join(','));
  } else {
    const names = labels ?? [];
    const k = p.probabilities!.length / p.n;
    const label = (c: number) => csvField(names[c] ?? String(c));
    lines.push([...lead, 'actual', 'predicted', ...Array.from({ length: k }, (_, c) => csvField(`p_${names[c] ?? c}`))].join(','));
    for (let i = 0; i < p.n; i++) {
      const probs = Array.from({ length: k }, (_, c) => num(p.probabilities![i * k + c]!));
      lines.push([...leadOf(i), label(y[i]!), label(p.classes![i]!), ...probs].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * predictions.csv of a multi-target model: `row,source_row[,<id>]`, then per target
 * `<t>_actual,<t>_predicted` and `<t>_p_<label>…` (classification) or `<t>_error` (regression).
 */
export function multiTargetCsv(outputs: readonly { name: string; labels?: string[] }[], p: TensorPredictions, y: Float32Array, origin: SampleOrigin = {}): string {
  const k = outputs.length;
  const each = p.outputs!;
  const lead = ['row', ...(origin.sourceRows ? ['source_row'] : []), ...(origin.ids && origin.idColumn ? [csvField(origin.idColumn)] : [])];
  const header = [...lead];
  each.forEach((o, j) => {
    const t = csvField(outputs[j]!.name);
    header.push(`${t}_actual`, `${t}_predicted`);
    if (o.values) header.push(`${t}_error`);
    else header.push(...(outputs[j]!.labels ?? ['0', '1']).map((l) => csvField(`${outputs[j]!.name}_p_${l}`)));
  });
  const lines = [header.join(',')];
  for (let i = 0; i < p.n; i++) {
    const cells = [String(i), ...(origin.sourceRows ? [String(origin.sourceRows[i])] : []), ...(origin.ids && origin.idColumn ? [csvField(origin.ids[i] ?? '')] : [])];
    each.forEach((o, j) => {
      const actual = y[i * k + j]!;
      if (o.values) cells.push(num(actual), num(o.values[i]!), num(o.values[i]! - actual));
      else {
        const labels = outputs[j]!.labels ?? [];
        const units = o.probabilities!.length / p.n;
        cells.push(csvField(labels[actual] ?? String(actual)), csvField(labels[o.classes![i]!] ?? String(o.classes![i])), ...Array.from({ length: units }, (_, c) => num(o.probabilities![i * units + c]!)));
      }
    });
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

async function writeMultiTarget(
  ctx: Parameters<StageKind<EvaluateConfig>['run']>[0],
  c: EvaluateConfig,
  outputs: NonNullable<ModelMeta['outputs']>,
  p: TensorPredictions,
  data: SplitData,
  split: SplitName,
  idColumn: string | undefined,
) {
  const wrong = (c.metrics ?? []).filter((m) => !outputs.some((o) => (o.task === 'regression' ? regressionMetricNames : classificationMetricNames).includes(m as never)));
  if (wrong.length > 0) throw new DataError(`metric(s) ${wrong.join(', ')} apply to none of the targets`, { hint: `choose from ${[...new Set(outputs.flatMap((o) => (o.task === 'regression' ? regressionMetricNames : classificationMetricNames)))].join(', ')}` });
  const scores = outputs.map((o, j) => ({ name: o.name, p: p.outputs![j]!, y: column(data.y, j, outputs.length), ...(o.labels ? { labels: o.labels } : {}) }));
  const { metrics, matrices } = multiTargetMetrics(scores, (all, regression) => pickMetrics(all, c.metrics?.filter((m) => (regression ? regressionMetricNames : classificationMetricNames).includes(m as never)) ?? undefined, regression ? 'regression' : 'binary'), { topK: c.top_k });
  const sorted = Object.fromEntries(Object.keys(metrics).sort().map((k) => [k, metrics[k]!]));
  for (const [key, value] of Object.entries(sorted)) ctx.log(`${key} ${num(value)}`);
  const task = outputs.map((o) => o.task).join(',');
  await writeFile(ctx.outputs.metrics!, `${stableStringify({ schemaVersion: 1, task, targets: outputs.map((o) => o.name), split, n: data.n, metrics: sorted })}\n`);
  await writeFile(ctx.outputs.predictions!, multiTargetCsv(outputs, p, data.y, { sourceRows: data.sourceRows, ids: data.ids, idColumn }));
  const perTarget = Object.fromEntries(Object.entries(matrices).map(([name, matrix]) => [name, { labels: outputs.find((o) => o.name === name)!.labels ?? [], matrix }]));
  await writeFile(ctx.outputs.confusion_matrix!, `${stableStringify({ schemaVersion: 1, labels: [], matrix: [], targets: perTarget })}\n`);
  const cells = Object.fromEntries(Object.entries(matrices).flatMap(([name, m]) => Object.entries(confusionCells(m)).map(([k, v]) => [`${name}.${k}`, v])));
  return { metrics: { ...sorted, ...cells } };
}

export const evaluate: StageKind<EvaluateConfig> = {
  kind: 'evaluate',
  // 3: predictions.csv carries source_row and the id column. 2: the confusion matrix is returned as metrics (run data in the tracker, restored with the stage).
  version: 3,
  description: 'Scores a trained model on a dataset split: classification or regression metrics, predictions and a confusion matrix.',
  config,
  outputs: (c) => ({
    metrics: { path: 'metrics.json', location: 'stage' },
    predictions: { path: 'predictions.csv', location: 'stage' },
    confusion_matrix: { path: 'confusion_matrix.json', location: 'stage' },
    ...(c.importance ? { importance: { path: 'importance.json', location: 'stage' as const } } : {}),
  }),
  checkUpstream: (c, upstreamOf) => checkSlices(c.slices, upstreamOf),
  async run(ctx) {
    const c = ctx.config;
    const dsMeta = await readMeta(c.data);
    const candidates = fallbackOrder.slice(fallbackOrder.indexOf(c.split));
    const split = candidates.find((s) => s in dsMeta.splits);
    if (!split) throw new DataError(`the dataset has no ${candidates.join(', ')} split to evaluate`, { file: c.data, hint: 'give the preprocess stage a test or validation fraction' });
    if (split !== c.split) ctx.log(`split: the dataset has no ${c.split} split; evaluating on ${split}`);
    const ds = await readDataset(c.data, [split]);
    const data = ds.splits[split]!;
    const meta = await readModelMeta(c.model);
    if (data.xShape.slice(1).join(',') !== meta.inputShape.join(',')) {
      throw new DataError(`the model in ${c.model} takes input of shape [${meta.inputShape.join(', ')}] but the ${split} split has rows of shape [${data.xShape.slice(1).join(', ')}]`, {
        file: c.data,
        hint: 'evaluate the model on the dataset it was trained on',
      });
    }
    const signature = (targets: { name: string; task: string; labels?: string[] }[]) => targets.map((t) => `${t.name}:${t.task}:${(t.labels ?? []).join('\u0000')}`).join('\u0001');
    if (meta.outputs || ds.meta.targets) {
      if (signature(meta.outputs ?? []) !== signature(ds.meta.targets ?? [])) {
        throw new DataError(`the model in ${c.model} predicts the targets [${(meta.outputs ?? [{ name: meta.dataset.target }]).map((t) => t.name).join(', ')}], the dataset has [${(ds.meta.targets ?? [{ name: ds.meta.target }]).map((t) => t.name).join(', ')}] (or their labels differ)`, {
          file: c.data,
          hint: 'evaluate the model on the dataset it was trained on',
        });
      }
    } else if (meta.task !== ds.meta.task || (meta.labels ?? []).join('\u0000') !== (ds.meta.labels ?? []).join('\u0000')) {
      throw new DataError(`the model in ${c.model} was trained for a ${meta.task} task with labels [${(meta.labels ?? []).join(', ')}], the dataset is ${ds.meta.task} with [${(ds.meta.labels ?? []).join(', ')}]`, {
        file: c.data,
        hint: 'evaluate the model on the dataset it was trained on',
      });
    }
    const loaded = await loadTf(ctx.backend);
    const { model } = await loadModel(loaded.tf, c.model);
    try {
      ctx.log(`evaluating on ${split} (${data.n} rows), backend ${loaded.backend}`);
      const p = predictTensor(loaded.tf, model, meta, data.x, data.xShape, { threshold: c.threshold });
      if (meta.outputs) {
        if (c.slices || c.importance) throw new DataError(`${c.slices ? 'slices' : 'importance'} needs a single-target model; the model in ${c.model} predicts ${meta.outputs.length} targets`, { hint: 'remove it, or train one model per target' });
        return { ...(await writeMultiTarget(ctx, c, meta.outputs, p, data, split, ds.meta.id)), backend: loaded.backend };
      }
      if (c.threshold !== 0.5 && meta.output.kind === 'sigmoid') ctx.log(`threshold: class ${meta.labels?.[1] ?? 1} when its probability is at least ${c.threshold}`);
      const labels = meta.labels ?? [];
      const scoring = { classes: labels.length, topK: c.top_k };
      const metrics = pickMetrics(predictionMetrics(p, data.y, scoring), c.metrics, meta.task);
      const sorted = Object.fromEntries(Object.keys(metrics).sort().map((k) => [k, metrics[k]!]));
      for (const [key, value] of Object.entries(sorted)) ctx.log(`${key} ${num(value)}`);
      const matrix = p.classes ? confusionMatrix(data.y, p.classes, labels.length) : [];
      const sliced = c.slices ? evaluateSlices(ctx, c.slices, data, p, scoring, (all) => pickMetrics(all, c.metrics, meta.task)) : {};
      await writeFile(ctx.outputs.metrics!, `${stableStringify({ schemaVersion: 1, task: meta.task, split, n: data.n, metrics: sorted, ...(c.slices ? { slices: sliced } : {}) })}\n`);
      await writeFile(ctx.outputs.predictions!, predictionsCsv(p, data.y, meta.labels, { sourceRows: data.sourceRows, ids: data.ids, idColumn: ds.meta.id }));
      await writeFile(ctx.outputs.confusion_matrix!, `${stableStringify({ schemaVersion: 1, labels: p.classes ? labels : [], matrix })}\n`);
      const importance = c.importance
        ? await evaluateImportance(ctx, c.importance, ds.meta, data, split, (x) => predictionMetrics(predictTensor(loaded.tf, model, meta, x, data.xShape, { threshold: c.threshold }), data.y, scoring), ctx.outputs.importance!)
        : {};
      return { metrics: { ...sorted, ...confusionCells(matrix), ...sliced, ...importance }, backend: loaded.backend };
    } finally {
      model.dispose();
    }
  },
};
