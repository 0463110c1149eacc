import { UserError } from '../errors.js';
import type { ObjectField } from '../schema/fields.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';
import type { DatasetMeta, Task } from './dataset.js';
import { fusedConvLayerClasses, type FusedConvClasses } from './kernels/fused-conv-layer.js';
import { fusedDenseLayerClass } from './kernels/fused-dense-layer.js';
import { fusedLstmLayerClass } from './kernels/fused-lstm-layer.js';
import { createInPlaceOptimizer, supportsInPlaceUpdates } from './kernels/in-place-optimizers.js';
import {
  layerField,
  modelField,
  momentumDefaults,
  optimizerField,
  type Activation,
  type LayerConfig,
  type LossConfig,
  type LossName,
  type LossSpec,
  lossSpecOf,
  type ModelConfig,
  type OptimizerConfig,
  type OptimizerName,
  type ScheduleConfig,
  type InitializerName,
  type KernelOptions,
  LEAKY_RELU_SLOPE,
  ADAMW_WEIGHT_DECAY,
  type PresetOptions,
  type RecurrentConfig,
} from './model-config.js';

/** The model config cannot be built for this dataset (wrong input kind, output size, loss for the task…). */
export class ModelConfigError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelConfigError';
  }
}

/** Internal layer added when a tabular input feeds a sequence layer: `[features]` → `[features, 1]`. */
export interface ReshapeLayer {
  type: 'reshape';
  target_shape: number[];
}

export type ResolvedLayer = LayerConfig | ReshapeLayer;

/** How the model's output is read: one sigmoid unit, k softmax units, or one linear value. */
export type OutputKind = 'sigmoid' | 'softmax' | 'linear';

/** A model config expanded against a dataset: defaults applied, preset expanded, output layer present. Pure data. */
export interface ResolvedModel {
  task: Task;
  inputShape: number[];
  inputDtype: 'float32' | 'int32';
  layers: ResolvedLayer[];
  loss: LossName;
  /** The loss with its settings (label smoothing, focal gamma/alpha, huber delta). */
  lossSpec: LossSpec;
  output: { kind: OutputKind; units: number };
  /** Class count (classification); 1 for regression. */
  classes: number;
  /** Steps taken while resolving that a user may want to know, e.g. an added flatten layer. */
  notes: string[];
  /** Multi-input: one encoder per dataset input, in row order; their outputs are concatenated before `layers`. */
  inputs?: ResolvedInput[];
  /** Several targets: one output layer each after `layers` (which then has none); `task`, `loss`, `output` and `classes` repeat the first. */
  heads?: ResolvedHead[];
}

/** One input of a multi-input model: the columns `offset … offset + width` of each dataset row, and its encoder. */
export interface ResolvedInput {
  name: string;
  kind: 'tabular' | 'text';
  offset: number;
  width: number;
  dtype: 'float32' | 'int32';
  layers: ResolvedLayer[];
}

/** One output of a multi-target model. */
export interface ResolvedHead {
  name: string;
  task: Task;
  loss: LossName;
  lossSpec: LossSpec;
  output: { kind: OutputKind; units: number };
  classes: number;
}

const imageLayers = new Set(['conv2d', 'max_pooling2d', 'avg_pooling2d', 'global_max_pooling2d', 'global_avg_pooling2d']);
const sequenceLayers = new Set(['lstm', 'gru', 'bidirectional', 'conv1d', 'max_pooling1d', 'avg_pooling1d', 'global_max_pooling1d', 'global_avg_pooling1d']);
const classificationLosses = new Set<LossName>(['binary_crossentropy', 'sparse_categorical_crossentropy', 'categorical_crossentropy', 'kl_divergence', 'focal']);

export function defaultLoss(task: Task): LossName {
  return task === 'binary' ? 'binary_crossentropy' : task === 'multiclass' ? 'sparse_categorical_crossentropy' : 'mean_squared_error';
}

function withDefaults<T extends { type: string }>(layer: T): T {
  const variants: Readonly<Record<string, ObjectField | undefined>> = layerField.variants;
  const variant = variants[layer.type];
  if (!variant) return layer;
  const out: Record<string, unknown> = { ...layer };
  for (const [key, field] of Object.entries(variant.properties)) {
    if (out[key] === undefined && field.default !== undefined) out[key] = structuredClone(field.default);
  }
  if (layer.type === 'bidirectional') out.layer = withDefaults((layer as { layer: RecurrentConfig } & T).layer);
  return out as T;
}

function presetDefaults(options: PresetOptions): Required<PresetOptions> {
  const objectVariant = modelField.variants[1]!;
  const out: Record<string, unknown> = { ...options };
  if (objectVariant.type === 'object') {
    for (const [key, field] of Object.entries(objectVariant.properties)) {
      if (out[key] === undefined && field.default !== undefined) out[key] = structuredClone(field.default);
    }
  }
  return out as Required<PresetOptions>;
}

/** The layers a preset stands for on one kind of input; `combiner`: after the concatenated inputs of a multi-input model. */
function expandPreset(name: string, options: PresetOptions, kind: 'tabular' | 'text' | 'combiner'): LayerConfig[] {
  const o = presetDefaults(options);
  if (name === 'text_classifier') {
    if (kind === 'tabular') throw new ModelConfigError('preset text_classifier needs a text dataset (preprocess with `text:`); for tabular data use mlp or logistic_regression');
    if (kind === 'combiner') return o.dropout > 0 ? [{ type: 'dropout', rate: o.dropout }] : [];
    const cell: RecurrentConfig = { type: o.cell, units: o.units };
    const layers: LayerConfig[] = [{ type: 'embedding', output_dim: o.embedding_dim }, o.bidirectional ? { type: 'bidirectional', layer: cell } : cell];
    if (o.dropout > 0) layers.push({ type: 'dropout', rate: o.dropout });
    return layers;
  }
  if (kind === 'text') throw new ModelConfigError(`preset ${name} needs a tabular dataset; for text use text_classifier or list layers starting with an embedding`);
  if (name === 'logistic_regression') return [];
  return o.hidden_units.flatMap((units): LayerConfig[] => [
    { type: 'dense', units, activation: o.activation, l2: o.l2 },
    ...(o.dropout > 0 ? [{ type: 'dropout', rate: o.dropout } as const] : []),
  ]);
}

/** A text input's encoder when model.inputs does not give one: the text_classifier preset's embedding and recurrent layer, else a bag of embeddings (embedding → mean over the tokens). */
function defaultTextEncoder(preset: string | undefined, options: PresetOptions): LayerConfig[] {
  if (preset === 'text_classifier') return expandPreset(preset, { ...options, dropout: 0 }, 'text');
  return [{ type: 'embedding', output_dim: presetDefaults(options).embedding_dim }, { type: 'global_avg_pooling1d' }];
}

function outputFor(task: Task, loss: LossName, classes: number): { kind: OutputKind; units: number } {
  if (task === 'regression') {
    if (classificationLosses.has(loss)) throw new ModelConfigError(`loss ${loss} is for classification, but the dataset's task is regression; use mean_squared_error, mean_absolute_error, mean_absolute_percentage_error or huber`);
    return { kind: 'linear', units: 1 };
  }
  if (!classificationLosses.has(loss)) throw new ModelConfigError(`loss ${loss} is for regression, but the dataset's task is ${task}; use ${defaultLoss(task)}`);
  if (loss === 'focal' && task === 'binary') return { kind: 'sigmoid', units: 1 };
  if (loss === 'binary_crossentropy') {
    if (task !== 'binary') throw new ModelConfigError(`loss binary_crossentropy needs two classes, but the dataset has ${classes}; use sparse_categorical_crossentropy`);
    return { kind: 'sigmoid', units: 1 };
  }
  return { kind: 'softmax', units: classes };
}

interface ChainStart {
  /** The input shape per sample; undefined after a concatenation (a flat vector of the encoders' widths). */
  shape?: number[];
  /** Token-id input: the vocabulary size an embedding takes. */
  vocab?: number;
}

/**
 * Expands one chain of layers from `start`: declared defaults, the embedding's vocabulary, an added
 * reshape when a sequence layer meets flat features. `lastIsOutput`: the chain's last dense layer
 * may become the output layer (so it keeps no default activation); otherwise every dense layer
 * without one gets relu. Returns the layers and the rank of the chain's output (batch axis included).
 */
function resolveChain(written: readonly LayerConfig[], start: ChainStart, where: string, notes: string[], lastIsOutput: boolean): { layers: ResolvedLayer[]; rank: number } {
  const text = start.vocab !== undefined;
  const layers: ResolvedLayer[] = [];
  let rank = (start.shape?.length ?? 1) + 1;
  written.forEach((raw, i) => {
    const layer = withDefaults(raw);
    const at = `${where}[${i}]`;
    if (layer.type === 'embedding') {
      if (!text) throw new ModelConfigError(`${at}: an embedding needs a text dataset or input (token ids); this input is ${start.shape ? 'tabular' : 'the concatenated encoders'}`);
      if (i !== 0) throw new ModelConfigError(`${at}: an embedding must be the first layer`);
      const vocab = start.vocab!;
      if (layer.input_dim !== undefined && layer.input_dim < vocab) {
        throw new ModelConfigError(`${at}: embedding input_dim ${layer.input_dim} is smaller than the vocabulary (${vocab} tokens); leave input_dim out to use the vocabulary size`);
      }
      layers.push({ ...layer, input_dim: layer.input_dim ?? vocab });
      rank = 3;
      return;
    }
    if (i === 0 && text) throw new ModelConfigError(`${at}: a text input's first layer must be an embedding (got ${layer.type})`);
    if (imageLayers.has(layer.type) && rank !== 4) {
      throw new ModelConfigError(`${at}: ${layer.type} needs an image input ([height, width, channels]), but its input has rank ${rank - 1}; preprocess an image column, or add { type: reshape, target_shape: [H, W, C] } before it`);
    }
    if (sequenceLayers.has(layer.type) && rank === 4) throw new ModelConfigError(`${at}: ${layer.type} works on sequences; for an image use ${layer.type.replace('1d', '2d')} (or reshape to [steps, channels])`);
    if (sequenceLayers.has(layer.type) && rank === 2) {
      if (i !== 0) throw new ModelConfigError(`${at}: ${layer.type} needs a sequence input ([steps, channels]), but the layer before it outputs a flat vector`);
      if (!start.shape) throw new ModelConfigError(`${at}: ${layer.type} cannot follow the concatenated inputs (a flat vector); put it in an input's encoder (model.inputs.<name>.layers)`);
      layers.push({ type: 'reshape', target_shape: [...start.shape, 1] });
      notes.push(`reshaped the ${start.shape[0]} tabular features to a sequence [${start.shape[0]}, 1] for ${layer.type}`);
      rank = 3;
    }
    if (layer.type === 'flatten' && rank === 2) throw new ModelConfigError(`${at}: flatten needs a sequence input, but its input is already flat`);
    if (layer.type === 'dense' && layer.activation === undefined && (!lastIsOutput || i < written.length - 1)) layer.activation = 'relu';
    const cell = layer.type === 'bidirectional' ? layer.layer : layer.type === 'lstm' || layer.type === 'gru' ? layer : undefined;
    if (cell && (cell.activation === 'leaky_relu' || cell.recurrent_activation === 'leaky_relu')) throw new ModelConfigError(`${at}: ${cell.type} does not take leaky_relu; use it on dense or conv layers`);
    layers.push(layer);
    rank = rankAfter(layer, rank);
  });
  return { layers, rank };
}

/**
 * Appends the output layer (dense with the task's units and activation) unless `written` (the
 * layers came from `model.layers`, not a preset) and the last one already is a dense layer of that
 * size. A preset's hidden layers are always hidden: `hidden_units: [3]` on 3 classes keeps its
 * hidden layer and still gets an output layer.
 */
function addOutputLayer(layers: ResolvedLayer[], rank: number, output: { kind: OutputKind; units: number }, notes: string[], written: boolean): void {
  const last = layers[layers.length - 1];
  if (written && last?.type === 'dense' && last.units === output.units) {
    if (rank !== 2) throw new ModelConfigError(`the output dense layer receives ${rank === 4 ? 'an image' : 'a sequence'}; add flatten or ${rank === 4 ? 'global_avg_pooling2d' : 'global_max_pooling1d'} before it`);
    last.activation ??= output.kind;
    return;
  }
  if (last?.type === 'dense' && last.activation === undefined) last.activation = 'relu';
  if (rank > 2) {
    layers.push({ type: 'flatten' });
    notes.push('added flatten before the output layer');
  }
  layers.push({ type: 'dense', units: output.units, activation: output.kind, use_bias: true, l2: 0 });
}

/**
 * Expands `config` for `meta`: a preset into layers, declared defaults into every layer, the
 * embedding's vocabulary size from the dataset, and the output layer (dense with the task's units
 * and activation) unless the last layer already is a dense layer of that size. A multi-input
 * dataset gets one encoder per input (`inputs`) whose outputs are concatenated before `layers`;
 * several targets get one output head each (`heads`) after `layers`.
 */
export function resolveModel(config: ModelConfig, meta: DatasetMeta, loss?: LossConfig): ResolvedModel {
  const spec = typeof config === 'string' ? { preset: config } : config;
  if (spec.preset !== undefined && spec.layers !== undefined) throw new ModelConfigError('model: give either `preset` or `layers`, not both');
  if (spec.inputs !== undefined && !meta.inputs) throw new ModelConfigError('model.inputs applies to a multi-input dataset (preprocess `text` with `features`, or several `text` columns); this dataset has one input: use `layers`');
  if (spec.preset === undefined && spec.layers === undefined && !(meta.inputs && spec.inputs)) throw new ModelConfigError('model: give a preset name (logistic_regression, mlp, text_classifier) or a `layers` list');
  const notes: string[] = [];
  const heads = meta.targets?.map((t) => resolveHead(t.name, t.task, t.labels, loss));
  const single = heads ? undefined : resolveHead(meta.target, meta.task, meta.labels, loss);
  const first = heads?.[0] ?? single!;
  const text = meta.inputKind === 'text';
  const inputShape = meta.splits.train?.xShape.slice(1) ?? (text ? [meta.text!.maxLength] : meta.image ? [meta.image.height, meta.image.width, meta.image.channels] : meta.inputs ? [meta.inputs.reduce((w, b) => w + b.width, 0)] : [meta.featureNames.length]);
  let inputs: ResolvedInput[] | undefined;
  let chain: { layers: ResolvedLayer[]; rank: number };
  if (meta.inputs) {
    const unknown = Object.keys(spec.inputs ?? {}).filter((k) => !meta.inputs!.some((b) => b.name === k));
    if (unknown.length > 0) throw new ModelConfigError(`model.inputs.${unknown[0]}: the dataset has no input "${unknown[0]}"; its inputs are ${meta.inputs.map((b) => b.name).join(', ')}`);
    let offset = 0;
    inputs = meta.inputs.map((block) => {
      const where = `model.inputs.${block.name}.layers`;
      const written = spec.inputs?.[block.name]?.layers ?? (block.kind === 'text' ? defaultTextEncoder(spec.preset, spec) : []);
      const encoder = resolveChain(written, { shape: [block.width], ...(block.text ? { vocab: block.text.vocab.length } : {}) }, where, notes, false);
      if (block.kind === 'text' && encoder.layers.length === 0) throw new ModelConfigError(`${where}: a text input needs an encoder starting with an embedding`);
      if (encoder.rank > 2) {
        encoder.layers.push({ type: 'flatten' });
        notes.push(`flattened the ${block.name} encoder's output before the concatenation`);
      }
      const resolvedInput: ResolvedInput = { name: block.name, kind: block.kind, offset, width: block.width, dtype: block.kind === 'text' ? 'int32' : 'float32', layers: encoder.layers };
      offset += block.width;
      return resolvedInput;
    });
    const combiner = spec.layers ?? (spec.preset ? expandPreset(spec.preset, spec, 'combiner') : []);
    chain = resolveChain(combiner, {}, 'model.layers', notes, !heads);
  } else {
    const written = spec.layers ?? expandPreset(spec.preset!, spec, text ? 'text' : 'tabular');
    chain = resolveChain(written, { shape: inputShape, ...(text ? { vocab: meta.text!.vocab.length } : {}) }, 'model.layers', notes, !heads);
    if (chain.layers.length === 0 && text) throw new ModelConfigError('model.layers[0]: a text dataset\'s first layer must be an embedding');
  }
  const layers = chain.layers;
  if (heads) {
    if (chain.rank > 2) {
      layers.push({ type: 'flatten' });
      notes.push('added flatten before the output layers');
    }
  } else addOutputLayer(layers, chain.rank, single!.output, notes, spec.layers !== undefined);
  return {
    task: first.task,
    inputShape,
    inputDtype: text ? 'int32' : 'float32',
    layers,
    loss: first.loss,
    lossSpec: first.lossSpec,
    output: first.output,
    classes: first.classes,
    notes,
    ...(inputs ? { inputs } : {}),
    ...(heads ? { heads } : {}),
  };
}

function resolveHead(name: string, task: Task, labels: string[] | undefined, loss: LossConfig | undefined): ResolvedHead {
  const classes = task === 'regression' ? 1 : (labels?.length ?? 0);
  if (task !== 'regression' && classes < 2) throw new ModelConfigError(`target "${name}" has ${classes} class label(s); classification needs at least 2`);
  const lossSpec = lossSpecOf(loss ?? defaultLoss(task));
  if (lossSpec.label_smoothing > 0 && !classificationLosses.has(lossSpec.name)) throw new ModelConfigError(`loss.label_smoothing applies to classification losses, not ${lossSpec.name}`);
  let output: { kind: OutputKind; units: number };
  try {
    output = outputFor(task, lossSpec.name, classes);
  } catch (err) {
    if (loss !== undefined && err instanceof ModelConfigError) throw new ModelConfigError(`target "${name}": ${err.message} (with several targets, \`loss\` applies to each; leave it out to use each task's default)`);
    throw err;
  }
  return { name, task, loss: lossSpec.name, lossSpec, output, classes };
}

function rankAfter(layer: LayerConfig, rank: number): number {
  switch (layer.type) {
    case 'lstm':
    case 'gru':
      return layer.return_sequences ? 3 : 2;
    case 'bidirectional':
      return layer.layer.return_sequences ? 3 : 2;
    case 'conv1d':
    case 'max_pooling1d':
    case 'avg_pooling1d':
      return 3;
    case 'conv2d':
    case 'max_pooling2d':
    case 'avg_pooling2d':
      return 4;
    case 'reshape':
      return layer.target_shape.length + 1;
    case 'global_max_pooling1d':
    case 'global_avg_pooling1d':
    case 'global_max_pooling2d':
    case 'global_avg_pooling2d':
    case 'flatten':
      return 2;
    default:
      return rank;
  }
}

const camel = (a: Activation): string => (a === 'hard_sigmoid' ? 'hardSigmoid' : a);

/** A Keras-named kernel initializer, seeded (Keras defaults: uniform ±0.05, normal σ 0.05). */
function initializer(tf: Tf, name: InitializerName, seed: number) {
  const i = tf.initializers;
  switch (name) {
    case 'glorot_uniform':
      return i.glorotUniform({ seed });
    case 'glorot_normal':
      return i.glorotNormal({ seed });
    case 'he_uniform':
      return i.heUniform({ seed });
    case 'he_normal':
      return i.heNormal({ seed });
    case 'lecun_uniform':
      return i.leCunUniform({ seed });
    case 'lecun_normal':
      return i.leCunNormal({ seed });
    case 'random_uniform':
      return i.randomUniform({ minval: -0.05, maxval: 0.05, seed });
    case 'random_normal':
      return i.randomNormal({ mean: 0, stddev: 0.05, seed });
    case 'truncated_normal':
      return i.truncatedNormal({ mean: 0, stddev: 0.05, seed });
    case 'orthogonal':
      return i.orthogonal({ seed, gain: 1 });
    case 'zeros':
      return i.zeros();
    case 'ones':
      return i.ones();
  }
}

/** Seeds for initializers and dropout, distinct per layer and per use, reproducible from one seed. */
export function deriveSeed(seed: number, layer: number, use: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (layer + 1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (use + 1), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) % 2147483647;
}

/** Dropout with a fresh, reproducible seed per call, for recurrent layers (whose masks would otherwise use Math.random). */
export function seededDropout(tf: Tf, seed: number): (x: import('@tensorflow/tfjs-core').Tensor, rate: number) => import('@tensorflow/tfjs-core').Tensor {
  let calls = 0;
  return (x, rate) => tf.dropout(x, rate, undefined, deriveSeed(seed, calls++, 7));
}

/**
 * Builds the TensorFlow.js model of `resolved`; every random initializer is seeded from `seed`.
 * LSTM layers run as one fused op per sequence, and dense and conv layers as one fused op with its own
 * gradient where the backend has mlpipe's kernels (`fused: false` builds TensorFlow.js's own layers). One input and one output give a sequential model;
 * several inputs or targets a functional one (`tf.model`): an encoder per input, concatenated,
 * `layers`, then one output layer per target (named `output_<i>`, in target order).
 */
export function buildModel(tf: Tf, resolved: ResolvedModel, seed: number, options: { fused?: boolean } = {}): LayersModel {
  const fused: FusedClasses | null = options.fused === false ? null : { Lstm: fusedLstmLayerClass(tf), Dense: fusedDenseLayerClass(tf), ...fusedConvLayerClasses(tf) };
  if (!resolved.inputs && !resolved.heads) {
    const model = tf.sequential({ name: 'mlpipe_model' });
    model.add(tf.layers.inputLayer({ name: 'input', inputShape: resolved.inputShape, dtype: resolved.inputDtype }));
    resolved.layers.forEach((layer, i) => {
      for (const l of tfLayers(tf, layer, i, `${layer.type}_${i + 1}`, seed, fused)) model.add(l);
    });
    return model;
  }
  type Sym = import('@tensorflow/tfjs-layers').SymbolicTensor;
  let index = 0;
  const chain = (x: Sym, layers: readonly ResolvedLayer[], prefix: string): Sym => {
    for (const layer of layers) {
      const i = index++;
      for (const l of tfLayers(tf, layer, i, `${prefix}${layer.type}_${i + 1}`, seed, fused)) x = l.apply(x) as Sym;
    }
    return x;
  };
  const blocks = resolved.inputs ?? [{ name: 'input', dtype: resolved.inputDtype, layers: [] as ResolvedLayer[], width: 0, shape: resolved.inputShape }];
  const inputs = blocks.map((b, k) => tf.input({ name: resolved.inputs ? `input_${k + 1}` : 'input', shape: 'shape' in b ? b.shape : [b.width], dtype: b.dtype }));
  const encoded = blocks.map((b, k) => chain(inputs[k]!, b.layers, resolved.inputs ? `in${k + 1}_` : ''));
  let x = encoded.length === 1 ? encoded[0]! : (tf.layers.concatenate({ name: 'concatenate' }).apply(encoded) as Sym);
  x = chain(x, resolved.layers, '');
  const outputs = (resolved.heads ?? []).map((h, k) => {
    const i = index++;
    const args = { name: `output_${k + 1}`, units: h.output.units, activation: h.output.kind, kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, i, 0) }) };
    return (fused ? new fused.Dense(args) : tf.layers.dense(args)).apply(x) as Sym;
  });
  return tf.model({ name: 'mlpipe_model', inputs, outputs: resolved.heads ? outputs : x });
}

type TfLayer = import('@tensorflow/tfjs-layers').layers.Layer;

/** mlpipe's fused layer classes (same class names and configs as TensorFlow.js's own). */
interface FusedClasses extends FusedConvClasses {
  Lstm: ReturnType<typeof fusedLstmLayerClass>;
  Dense: ReturnType<typeof fusedDenseLayerClass>;
}

/** The TensorFlow.js layers of one resolved layer (two for a leaky_relu activation), named `name`, seeded from (seed, i). */
function tfLayers(tf: Tf, layer: ResolvedLayer, i: number, name: string, seed: number, fused: FusedClasses | null): TfLayer[] {
  const out: TfLayer[] = [];
  const add = (l: TfLayer) => out.push(l);
  const glorot = (use: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, i, use) });
  const kernel = (o: KernelOptions) => {
    const reg = { l1: o.kernel_regularizer?.l1 ?? 0, l2: (o.kernel_regularizer?.l2 ?? 0) + (o.l2 ?? 0) };
    return {
      kernelInitializer: initializer(tf, o.kernel_initializer ?? 'glorot_uniform', deriveSeed(seed, i, 0)),
      kernelRegularizer: reg.l1 || reg.l2 ? tf.regularizers.l1l2(reg) : undefined,
    };
  };
  const act = (a: Activation | undefined) => (a === 'leaky_relu' ? 'linear' : camel(a!)) as 'linear';
  const leaky = (a: Activation | undefined) => {
    if (a === 'leaky_relu') add(tf.layers.leakyReLU({ name: `${name}_leaky_relu`, alpha: LEAKY_RELU_SLOPE }));
  };
  const recurrent = (c: RecurrentConfig, args: { name?: string; base: number }) => {
    const orthogonal = tf.initializers.orthogonal({ seed: deriveSeed(seed, i, args.base + 1), gain: 1 });
    (orthogonal as unknown as { ELEMENTS_WARN_SLOW: number }).ELEMENTS_WARN_SLOW = Number.POSITIVE_INFINITY;
    const common = {
      units: c.units,
      activation: camel(c.activation!),
      recurrentActivation: camel(c.recurrent_activation!),
      returnSequences: c.return_sequences,
      dropout: c.dropout,
      recurrentDropout: c.recurrent_dropout,
      kernelInitializer: glorot(args.base),
      recurrentInitializer: orthogonal,
      dropoutFunc: seededDropout(tf, deriveSeed(seed, i, args.base + 2)),
      ...(args.name ? { name: args.name } : {}),
    } as Parameters<typeof tf.layers.lstm>[0];
    if (c.type === 'gru') return tf.layers.gru(common as Parameters<typeof tf.layers.gru>[0]);
    return fused ? new fused.Lstm(common) : tf.layers.lstm(common);
  };
  switch (layer.type) {
    case 'dense':
      {
        const args = { name, units: layer.units, activation: act(layer.activation), useBias: layer.use_bias, ...kernel(layer) };
        add(fused ? new fused.Dense(args) : tf.layers.dense(args));
      }
      leaky(layer.activation);
      break;
    case 'dropout':
      add(tf.layers.dropout({ name, rate: layer.rate, seed: deriveSeed(seed, i, 0) }));
      break;
    case 'embedding':
      add(tf.layers.embedding({ name, inputDim: layer.input_dim!, outputDim: layer.output_dim, maskZero: layer.mask_zero, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: deriveSeed(seed, i, 0) }) }));
      break;
    case 'lstm':
    case 'gru':
      add(recurrent(layer, { name, base: 0 }));
      break;
    case 'bidirectional':
      add(tf.layers.bidirectional({ name, layer: recurrent(layer.layer, { base: 0 }) as never, mergeMode: layer.merge_mode }));
      break;
    case 'conv1d':
      {
        const args = { name, filters: layer.filters, kernelSize: layer.kernel_size, strides: layer.strides, padding: layer.padding, activation: act(layer.activation), ...kernel(layer) };
        add(fused ? new fused.Conv1D(args) : tf.layers.conv1d(args));
      }
      leaky(layer.activation);
      break;
    case 'max_pooling1d':
    case 'avg_pooling1d': {
      const args = { name, poolSize: layer.pool_size, strides: layer.strides ?? layer.pool_size, padding: layer.padding };
      add(layer.type === 'max_pooling1d' ? tf.layers.maxPooling1d(args) : tf.layers.averagePooling1d(args));
      break;
    }
    case 'global_max_pooling1d':
      add(tf.layers.globalMaxPooling1d({ name }));
      break;
    case 'global_avg_pooling1d':
      add(tf.layers.globalAveragePooling1d({ name }));
      break;
    case 'flatten':
      add(tf.layers.flatten({ name }));
      break;
    case 'batch_normalization':
      add(tf.layers.batchNormalization({ name, momentum: layer.momentum, epsilon: layer.epsilon }));
      break;
    case 'reshape':
      add(tf.layers.reshape({ name, targetShape: layer.target_shape }));
      break;
    case 'conv2d':
      {
        const args = { name, filters: layer.filters, kernelSize: layer.kernel_size, strides: layer.strides, padding: layer.padding, activation: act(layer.activation), ...kernel(layer) };
        add(fused ? new fused.Conv2D(args) : tf.layers.conv2d(args));
      }
      leaky(layer.activation);
      break;
    case 'max_pooling2d':
    case 'avg_pooling2d': {
      const args = { name, poolSize: layer.pool_size, strides: layer.strides ?? layer.pool_size, padding: layer.padding };
      add(layer.type === 'max_pooling2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args));
      break;
    }
    case 'global_max_pooling2d':
      add(tf.layers.globalMaxPooling2d({ name }));
      break;
    case 'global_avg_pooling2d':
      add(tf.layers.globalAveragePooling2d({ name }));
      break;
    case 'layer_normalization':
      add(tf.layers.layerNormalization({ name, epsilon: layer.epsilon }));
      break;
  }
  return out;
}

/** An optimizer with its learning-rate decay or schedule. */
export interface OptimizerHandle {
  optimizer: import('@tensorflow/tfjs-core').Optimizer;
  name: string;
  learningRate: number;
  decay: number;
  schedule?: ScheduleConfig;
  /** Settings worth a log line: `clipnorm 1`, `weight_decay 0.004`. */
  extras: string[];
  /**
   * Sets the rate for 0-based `epoch` of `epochs` and returns it: the schedule's rate, else
   * learning_rate / (1 + decay · epoch). reduce_on_plateau reads the metrics of the epochs so far.
   */
  setEpoch(epoch: number, epochs?: number, history?: readonly Record<string, number>[]): number;
}

/**
 * Creates the optimizer of `config` (a name, or `{name, learning_rate, decay, momentum, …}`),
 * filling declared defaults. On the wasm and cpu backends the update runs in place in one pass per
 * variable; elsewhere mlpipe's update rules copy the values out and back (`inPlace: false` forces
 * TensorFlow.js's own optimizers where it has the rule and no clipping is asked).
 */
export function createOptimizer(tf: Tf, config: OptimizerConfig, options: { inPlace?: boolean } = {}): OptimizerHandle {
  const settings = optimizerField.variants[1].properties;
  const given: Exclude<OptimizerConfig, string> = typeof config === 'string' ? { name: config, learning_rate: settings.learning_rate.default, decay: settings.decay.default } : config;
  // Callers outside the spec (benches, tests, the search) may pass a partial object: fill what it lacks.
  const { name } = given;
  const learningRate = given.learning_rate ?? settings.learning_rate.default;
  const decay = given.decay ?? settings.decay.default;
  const momentum = (given.momentum ?? momentumDefaults[name] ?? 0);
  const weightDecay = name === 'adamw' ? (given.weight_decay ?? ADAMW_WEIGHT_DECAY) : 0;
  const { clipnorm, clipvalue, schedule } = given;
  const stockRule = name !== 'nadam' && name !== 'adamw' && clipnorm === undefined && clipvalue === undefined;
  const inPlace = !stockRule || ((options.inPlace ?? true) && supportsInPlaceUpdates(tf));
  const optimizer = inPlace
    ? createInPlaceOptimizer(tf, { rule: name, learningRate, momentum, weightDecay, clipnorm, clipvalue })
    : name === 'sgd' ? tf.train.sgd(learningRate)
    : name === 'momentum' ? tf.train.momentum(learningRate, momentum)
    : name === 'adam' ? tf.train.adam(learningRate)
    : name === 'rmsprop' ? tf.train.rmsprop(learningRate, 0.9, momentum)
    : tf.train.adagrad(learningRate);
  const extras = [
    ...(weightDecay ? [`weight_decay ${weightDecay}`] : []),
    ...(clipnorm !== undefined ? [`clipnorm ${clipnorm}`] : []),
    ...(clipvalue !== undefined ? [`clipvalue ${clipvalue}`] : []),
    ...(schedule ? [`schedule ${describeSchedule(schedule)}`] : []),
  ];
  let plateau = { rate: learningRate, best: Number.NaN, wait: 0 };
  return {
    optimizer,
    name,
    learningRate,
    decay,
    ...(schedule ? { schedule } : {}),
    extras,
    setEpoch(epoch, epochs = 1, history = []) {
      let lr: number;
      if (!schedule) lr = learningRate / (1 + decay * epoch);
      else if (schedule.type === 'exponential') lr = learningRate * schedule.decay_rate ** (epoch / schedule.decay_epochs);
      else if (schedule.type === 'step') lr = learningRate * schedule.gamma ** Math.floor(epoch / schedule.step_size);
      else if (schedule.type === 'cosine') lr = schedule.min_lr + 0.5 * (learningRate - schedule.min_lr) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs - 1)));
      else {
        if (epoch === 0) plateau = { rate: learningRate, best: Number.NaN, wait: 0 };
        const last = history[history.length - 1];
        if (last) {
          const value = last[schedule.monitor];
          if (value === undefined) throw new Error(`optimizer.schedule.monitor "${schedule.monitor}" is not logged; logged: ${Object.keys(last).join(', ')}`);
          const lower = /loss|mae|mse|error/.test(schedule.monitor);
          const improved = Number.isNaN(plateau.best) || (lower ? value < plateau.best - schedule.min_delta : value > plateau.best + schedule.min_delta);
          if (improved) plateau = { ...plateau, best: value, wait: 0 };
          else if (++plateau.wait >= schedule.patience) plateau = { ...plateau, rate: Math.max(schedule.min_lr, plateau.rate * schedule.factor), wait: 0 };
        }
        lr = plateau.rate;
      }
      const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
      if (o.setLearningRate) o.setLearningRate(lr);
      else o.learningRate = lr;
      return lr;
    },
  };
}

function describeSchedule(s: ScheduleConfig): string {
  switch (s.type) {
    case 'exponential':
      return `exponential(decay_rate ${s.decay_rate} per ${s.decay_epochs} epoch(s))`;
    case 'step':
      return `step(×${s.gamma} every ${s.step_size} epochs)`;
    case 'cosine':
      return `cosine(to ${s.min_lr})`;
    case 'reduce_on_plateau':
      return `reduce_on_plateau(${s.monitor}, ×${s.factor} after ${s.patience} epochs)`;
  }
}
