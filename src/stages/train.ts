import { f, type Infer } from '../schema/fields.js';
import { describeBackend, loadTf } from '../ml/backend.js';
import { buildModel, createOptimizer, resolveModel, type ResolvedModel } from '../ml/build-model.js';
import { readMeta, type DatasetMeta } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { didYouMean } from '../schema/did-you-mean.js';
import { lossField, modelField, optimizerField } from '../ml/model-config.js';
import { metricApplies, trainMetricNames } from '../ml/epoch-metrics.js';
import { saveModel, type InitFrom } from '../ml/model-io.js';
import { checkWarmStart, warmStart, warmStartFields } from './warm-start.js';
import { scaleTarget, targetScaleOf, type TargetScale } from '../ml/target-scaling.js';
import { seededRandom } from '../ml/split.js';
import { fitModel, permutation, takeRows, type EarlyStopping, type EpochLog, type FitData, type FitOptions, type TrainData } from '../ml/train-loop.js';
import { openTrainSplits, streamThreshold, type TrainSplits } from './train-data.js';
import type { StageContext, StageKind, StageResult, TrialControl } from '../core/stage-kind.js';
import { cvMetrics, refitEpochs, type PredictionMeta } from '../ml/cross-validate.js';
import { runCrossValidation } from './train-cv.js';

/** The resolved `with` block of a train stage, derived from its declaration below. */
export type TrainConfig = Infer<typeof config>;

/** A search trial's hook into the train loop: each epoch's metrics go to the search, which may stop training (`run --search asha`). */
const afterEpochOf = (trial: TrialControl): NonNullable<FitOptions['afterEpoch']> => (log, final) => trial.epochEnded(log.epoch, log.metrics, final);

/** The share of the train split held out for validation when neither the dataset nor the spec says otherwise. */
export const DEFAULT_VALIDATION_SPLIT = 0.1;

const config = f.object(
  'Trains a TensorFlow.js model on a dataset written by a preprocess stage.',
  {
    data: f.path('The dataset folder, usually ${stages.prepare.outputs.dataset}.'),
    model: modelField,
    optimizer: optimizerField,
    loss: lossField,
    loss_weights: f.map('Several targets: target → the weight of its loss in the summed training loss (Keras `loss_weights`); a target not named weighs 1.', f.number('The weight.', { minimum: 0 })),
    metrics: f.array('Metrics logged per epoch besides the loss, on the train data and as val_* on the validation data (Keras `metrics=`); any of them can be an early_stopping monitor.', f.enum('A metric.', trainMetricNames, { aliases: { acc: 'accuracy', roc_auc: 'auc' }, ignoreCase: true }), { minItems: 1 }),
    epochs: f.int('Passes over the training split.', { minimum: 1, default: 10 }),
    batch_size: f.int('Samples per gradient step.', { minimum: 1, default: 32 }),
    validation_split: f.number(`Fraction of the training split held out (seeded) for validation when the dataset has no validation split (default ${DEFAULT_VALIDATION_SPLIT}); 0: none. Setting it when the dataset has a validation split is an error.`, {
      minimum: 0,
      exclusiveMaximum: 1,
    }),
    early_stopping: f.object('Stops when the monitored metric has not improved for `patience` epochs.', {
      monitor: f.string('The logged metric watched: loss, accuracy or mae, a metric of `metrics`, or their val_* forms (which need validation data), e.g. val_auc.', { default: 'val_loss' }),
      patience: f.int('Epochs without improvement before stopping.', { minimum: 0, default: 3 }),
      min_delta: f.number('The smallest change that counts as an improvement.', { minimum: 0, default: 0 }),
      restore_best_weights: f.bool('Keep the weights of the best epoch instead of the last.', { default: true }),
    }),
    class_weight: f.oneOf('Loss weight per class: `balanced` (n / (classes · count)) or a map from label to weight (missing labels weigh 1).', [
      f.enum('Weights inversely proportional to class frequency.', ['balanced']),
      f.map('Label → weight.', f.number('The weight.', { minimum: 0 })),
    ]),
    seed: f.int('Seed of weight initialization, dropout, shuffling and the validation hold-out; the same seed on the same backend gives identical weights.', {
      default: 42,
    }),
    ...warmStartFields,
  },
  { required: ['data', 'model'] },
);

/** Per-class loss weights from `class_weight`, indexed like `meta.labels`. */
export function classWeights(setting: TrainConfig['class_weight'], y: Float32Array, meta: DatasetMeta): number[] | undefined {
  if (setting === undefined) return undefined;
  const labels = meta.labels;
  if (meta.task === 'regression' || !labels) throw new DataError('class_weight applies to classification; this dataset is a regression', { hint: 'remove class_weight' });
  if (setting === 'balanced') {
    const counts = new Array<number>(labels.length).fill(0);
    for (const c of y) counts[c]!++;
    return counts.map((count) => (count === 0 ? 1 : y.length / (labels.length * count)));
  }
  const unknown = Object.keys(setting).filter((k) => !labels.includes(k));
  if (unknown.length > 0) throw new DataError(`class_weight names unknown label(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`, { hint: `the labels are ${labels.map((l) => JSON.stringify(l)).join(', ')}` });
  return labels.map((label) => setting[label] ?? 1);
}

/** Per-target loss weights from `loss_weights`, indexed like `meta.targets`; absent: undefined (each weighs 1). */
export function lossWeightsOf(setting: TrainConfig['loss_weights'], meta: DatasetMeta): number[] | undefined {
  if (setting === undefined) return undefined;
  const targets = meta.targets?.map((t) => t.name);
  if (!targets) throw new DataError(`loss_weights applies to a dataset with several targets; this one has one (${meta.target})`, { hint: 'remove loss_weights, or list several targets in the preprocess stage (target: [a, b])' });
  const unknown = Object.keys(setting).filter((k) => !targets.includes(k));
  if (unknown.length > 0) {
    const near = didYouMean(unknown[0]!, targets);
    throw new DataError(`loss_weights names unknown target(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`, { hint: `${near ? `${near}; ` : ''}the targets are ${targets.map((t) => JSON.stringify(t)).join(', ')}` });
  }
  if (targets.every((t) => setting[t] === 0)) throw new DataError('loss_weights gives every target weight 0: nothing would be trained', { hint: 'give at least one target a weight above 0' });
  return targets.map((t) => setting[t] ?? 1);
}

/**
 * `embedding(5000→16) → lstm(32) → dense(1, sigmoid)`; a multi-input or multi-target model:
 * `[title: embedding(…) → global_avg_pooling1d | features] → concat → dense(64, relu) → [toxic: dense(1, sigmoid), …]`.
 */
export function describeLayers(resolved: ResolvedModel): string {
  const parts: string[] = [];
  if (resolved.inputs) parts.push(`[${resolved.inputs.map((b) => `${b.name}${b.layers.length ? `: ${describeChain(b.layers)}` : ''}`).join(' | ')}] → concat`);
  if (resolved.layers.length) parts.push(describeChain(resolved.layers));
  if (resolved.heads) parts.push(`[${resolved.heads.map((h) => `${h.name}: dense(${h.output.units}, ${h.output.kind})`).join(', ')}]`);
  return parts.join(' → ');
}

function describeChain(layers: ResolvedModel['layers']): string {
  return layers
    .map((l) => {
      switch (l.type) {
        case 'dense':
          return `dense(${l.units}, ${l.activation})`;
        case 'embedding':
          return `embedding(${l.input_dim}→${l.output_dim})`;
        case 'lstm':
        case 'gru':
          return `${l.type}(${l.units}${l.return_sequences ? ', sequences' : ''})`;
        case 'bidirectional':
          return `bidirectional(${l.layer.type}(${l.layer.units}))`;
        case 'dropout':
          return `dropout(${l.rate})`;
        case 'conv1d':
        case 'conv2d':
          return `${l.type}(${l.filters}×${l.kernel_size})`;
        case 'max_pooling2d':
        case 'avg_pooling2d':
        case 'max_pooling1d':
        case 'avg_pooling1d':
          return `${l.type}(${l.pool_size})`;
        case 'reshape':
          return `reshape(${l.target_shape.join('×')})`;
        default:
          return l.type;
      }
    })
    .join(' → ');
}

/** `focal (gamma 2, alpha 0.25)`, `binary_crossentropy (label_smoothing 0.1)`, `huber (delta 2)`. */
function describeLoss(r: Pick<ResolvedModel, 'lossSpec'> & { heads?: ResolvedModel['heads'] }): string {
  if (r.heads) return r.heads.map((h) => `${h.name} ${describeLoss(h)}`).join(', ') + ' (summed)';
  const l = r.lossSpec;
  const settings = [
    ...(l.label_smoothing ? [`label_smoothing ${l.label_smoothing}`] : []),
    ...(l.name === 'focal' ? [`gamma ${l.gamma}`, ...(l.alpha !== undefined ? [`alpha ${l.alpha}`] : [])] : []),
    ...(l.name === 'huber' && l.delta !== 1 ? [`delta ${l.delta}`] : []),
  ];
  return settings.length ? `${l.name} (${settings.join(', ')})` : l.name;
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3));
const short = (k: string): string => k.replace('accuracy', 'acc');

/** `epoch 3/10 loss 0.412 acc 0.850 val_loss 0.398 val_acc 0.870` */
export function epochLine(log: EpochLog, epochs: number): string {
  return [`epoch ${log.epoch}/${epochs}`, ...Object.entries(log.metrics).map(([k, v]) => `${short(k)} ${fmt(v)}`)].join(' ');
}

function holdOut(train: TrainData, fraction: number, seed: number): { train: TrainData; validation: TrainData } {
  const n = train.xShape[0]!;
  const order = permutation(n, seededRandom(seed ^ 0x5bd1e995));
  const nVal = Math.max(1, Math.round(n * fraction));
  return { validation: takeRows(train, order.subarray(0, nVal).sort()), train: takeRows(train, order.subarray(nVal).sort()) };
}

/** How the model reads its outputs (what saveModel records and predictTensor uses): output kinds, target scales, input slices, heads. */
function predictionMetaOf(resolved: ResolvedModel, targetScales: (TargetScale | undefined)[], targetMetas: { labels?: string[] }[]): PredictionMeta {
  return {
    output: resolved.output,
    inputDtype: resolved.inputDtype,
    ...(targetScales[0] ? { targetScale: targetScales[0] } : {}),
    ...(resolved.inputs ? { inputs: resolved.inputs.map((b) => ({ name: b.name, offset: b.offset, width: b.width, dtype: b.dtype })) } : {}),
    ...(resolved.heads
      ? {
          outputs: resolved.heads.map((h, j) => ({
            name: h.name,
            task: h.task,
            output: h.output,
            loss: h.loss,
            ...(targetMetas[j]!.labels ? { labels: targetMetas[j]!.labels } : {}),
            ...(targetScales[j] ? { targetScale: targetScales[j] } : {}),
          })),
        }
      : {}),
  };
}

export const train: StageKind<TrainConfig> = {
  kind: 'train',
  // 3: LSTM and Adam on wasm run mlpipe's SIMD kernels (float rounding of trained weights differs from 2).
  // 4: a dense stack (logistic regression, MLP) trained with Adam on wasm runs its whole step on the heap
  //    (SIMD gemm instead of XNNPACK's matmul): trained weights differ from 3 in float rounding.
  version: 4,
  description: 'Trains a TensorFlow.js model (a preset or a list of layers) on a preprocessed dataset.',
  config,
  outputs: () => ({ model: { path: 'model', location: 'stage' } }),
  modelRefs: (c) => (c.init_from ? [c.init_from] : []),
  check: checkWarmStart,
  async run(ctx) {
    const splits = await openTrainSplits(ctx.config.data, await readMeta(ctx.config.data));
    try {
      return await trainOn(ctx, splits);
    } finally {
      splits.close();
    }
  },
};

async function trainOn(ctx: StageContext<TrainConfig>, splits: TrainSplits): Promise<StageResult> {
  const c = ctx.config;
  const ds = splits;
  const trainSplit = splits.train;
  let trainData: TrainData = trainSplit;
  let validation: TrainData | undefined = splits.validation;
  if (splits.streamed) ctx.log(`data: the train split is read from its file a batch at a time (its x is over MLPIPE_TRAIN_STREAM_MB, ${streamThreshold() / 1048576} MB)`);
  const validationSplit = c.validation_split ?? DEFAULT_VALIDATION_SPLIT;
  if (validation && c.validation_split !== undefined) {
    throw new DataError(`validation_split ${c.validation_split} cannot apply: the dataset already has a validation split (${validation.xShape[0]} rows), which training uses`, {
      file: c.data,
      hint: 'remove validation_split, or set split.validation: 0 in the preprocess stage to hold out from the train split here instead',
    });
  }
  const rowsOf = (d: TrainData) => d.xShape[0]!;
  const cv = ds.meta.cv;
  if (cv && c.validation_split !== undefined) throw new DataError(`validation_split ${c.validation_split} cannot apply: the dataset is cut into ${cv.k} folds, each validated on its held-out fold`, { file: c.data, hint: 'remove validation_split' });
  if (validation) ctx.log(`data: ${trainSplit.n} train rows, ${rowsOf(validation)} validation rows (the dataset's validation split)`);
  else if (cv) ctx.log(`data: ${trainSplit.n} train rows in ${cv.k} folds (${cv.strategy}); each fold is held out once, then the model is refit on all of them`);
  else if (validationSplit > 0 && trainSplit.n >= 2) {
    ({ train: trainData, validation } = holdOut(trainSplit, validationSplit, c.seed));
    ctx.log(`data: ${rowsOf(trainData)} train rows, ${rowsOf(validation)} validation rows (validation_split ${validationSplit} of the train split)`);
  } else ctx.log(`data: ${trainSplit.n} train rows, no validation`);

  const resolved = resolveModel(c.model, ds.meta, c.loss);
  const targetMetas = ds.meta.targets ?? [{ name: ds.meta.target, task: ds.meta.task, targetScaling: ds.meta.targetScaling }];
  const heads = resolved.heads ?? [resolved];
  const targetScales = targetMetas.map((t, j) => targetScaleOf(t, { centre: heads[j]!.loss !== 'mean_absolute_percentage_error' }));
  targetScales.forEach((scale, j) => {
    if (!scale) return;
    trainData = { ...trainData, y: scaleTarget(trainData.y, scale, j, targetMetas.length) };
    if (validation) validation = { ...validation, y: scaleTarget(validation.y, scale, j, targetMetas.length) };
    ctx.log(`target: ${targetMetas[j]!.name} scaled to (y - ${fmt(scale.shift)}) / ${fmt(scale.scale)} for training (${targetMetas[j]!.targetScaling!.normalize}); loss in scaled units, mae and predictions in the target's units`);
  });
  for (const note of resolved.notes) ctx.log(`model: ${note}`);
  const kinds = heads.map((h) => h.output.kind);
  const inapplicable = (c.metrics ?? []).filter((m) => !kinds.some((k) => metricApplies(m, k)));
  if (inapplicable.length > 0) {
    throw new DataError(`metrics ${inapplicable.join(', ')} do not apply to a ${resolved.heads ? 'model of these targets' : `${resolved.task} model`}`, { hint: `choose from ${trainMetricNames.filter((m) => kinds.some((k) => metricApplies(m, k))).join(', ')}` });
  }
  if (c.class_weight !== undefined && ds.meta.targets) throw new DataError('class_weight applies to a dataset with one target; this one has several', { hint: 'remove class_weight' });
  const weights = classWeights(c.class_weight, trainData.y, ds.meta);
  const lossWeights = lossWeightsOf(c.loss_weights, ds.meta);
  // TensorFlow.js loads only once the data and the config have passed every check.
  const loaded = await loadTf(ctx.backend);
  const { tf } = loaded;
  ctx.log(describeBackend(loaded));
  const fitOptions = { epochs: c.epochs, batchSize: c.batch_size, seed: c.seed, classWeights: weights, earlyStopping: c.early_stopping, signal: ctx.signal, scoreScales: targetScales.map((t) => t?.scale ?? 1), metrics: c.metrics, lossWeights };
  const predictionMeta = predictionMetaOf(resolved, targetScales, targetMetas);
  const cvResult = cv && (await runCrossValidation(ctx, c.data, { tf, resolved, data: trainData as FitData, truth: trainSplit.y, folds: trainSplit.folds!, k: cv.k, predictionMeta, labels: targetMetas.map((t) => t.labels ?? []), seed: c.seed, fit: fitOptions, newOptimizer: () => createOptimizer(tf, c.optimizer) }));
  const epochs = cvResult && c.early_stopping ? refitEpochs(cvResult) : c.epochs;
  if (cvResult && c.early_stopping) ctx.log(`refit: ${epochs} epochs on all ${trainSplit.n} rows (the folds' mean best epoch; no early stopping without held-out rows)`);
  const model = buildModel(tf, resolved, c.seed);
  let initFrom: InitFrom | undefined;
  try {
    initFrom = c.init_from ? await warmStart(ctx, tf, model, ds.meta) : undefined;
  } catch (err) {
    model.dispose();
    throw err;
  }
  const optimizer = createOptimizer(tf, c.optimizer);
  try {
    ctx.log(`model: ${describeLayers(resolved)}; ${model.countParams()} parameters; loss ${describeLoss(resolved)}`);
    ctx.log(`optimizer: ${optimizer.name}, learning rate ${optimizer.learningRate}${optimizer.decay ? `, decay ${optimizer.decay}` : ''}${optimizer.extras.map((e) => `, ${e}`).join('')}; ${epochs} epochs of batch ${c.batch_size}; seed ${c.seed}`);
    if (lossWeights) ctx.log(`loss weights: ${ds.meta.targets!.map((t, j) => `${t.name} ${fmt(lossWeights[j]!)}`).join(', ')}`);
    if (weights) ctx.log(`class weights: ${ds.meta.labels!.map((l, i) => `${l} ${fmt(weights[i]!)}`).join(', ')}`);
    const result = await fitModel(
      tf,
      model,
      resolved,
      trainData,
      validation,
      { ...fitOptions, epochs, optimizer, earlyStopping: cvResult ? undefined : c.early_stopping, ...(ctx.trial ? { afterEpoch: afterEpochOf(ctx.trial) } : {}) },
      (log) => {
        for (const [key, value] of Object.entries(log.metrics)) ctx.logMetric(key, value, log.epoch);
        ctx.logMetric('lr', log.learningRate, log.epoch);
        const line = epochLine(log, epochs);
        ctx.progress(line);
        ctx.log(`${line} (${Math.round(log.samplesPerSecond)} samples/s)`);
      },
    );
    if (result.stoppedEarly) ctx.log(`early stopping: ${c.early_stopping!.monitor} did not improve for ${c.early_stopping!.patience} epoch(s), stopped after epoch ${result.epochsRun}`);
    if (result.pruned) ctx.log(`pruned by the search after epoch ${result.epochsRun} of ${epochs}: its validation metric ranks below the trials kept at this rung`);
    if (result.bestEpoch !== result.epochsRun) ctx.log(`restored the weights of epoch ${result.bestEpoch} (best ${c.early_stopping!.monitor})`);
    await saveModel(tf, model, ctx.outputs.model!, {
      schemaVersion: 1,
      task: resolved.task,
      loss: resolved.loss,
      inputShape: resolved.inputShape,
      ...predictionMeta,
      ...(ds.meta.labels ? { labels: ds.meta.labels } : {}),
      dataset: ds.meta,
      backend: loaded.backend,
      seed: c.seed,
      ...(initFrom ? { initFrom } : {}),
    });
    return { metrics: { ...result.final, epochs: result.epochsRun, best_epoch: result.bestEpoch, ...(initFrom?.registered ? { init_from_version: initFrom.registered.version } : {}), ...(cvResult ? cvMetrics(cvResult) : {}), ...ctx.trial?.resultMetrics() }, backend: loaded.backend };
  } finally {
    model.dispose();
    optimizer.optimizer.dispose();
  }
}

