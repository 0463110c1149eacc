import { f, type Field, type Infer, type InferInput } from '../schema/fields.js';

/** Activation names as written in a spec (Keras spelling). */
export const activations = [
  'linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'leaky_relu',
] as const;

/** The negative slope of `leaky_relu` (Keras 3's default). */
export const LEAKY_RELU_SLOPE = 0.2;
export type Activation = (typeof activations)[number];

export const presetNames = ['logistic_regression', 'mlp', 'text_classifier'] as const;
/** Other spellings of the presets: `logistic_regression` has no hidden layer, so on a regression task it is linear regression. */
const presetAliases = { linear_regression: 'logistic_regression', linear: 'logistic_regression', logistic: 'logistic_regression', logreg: 'logistic_regression' };
export type PresetName = (typeof presetNames)[number];

export const optimizerNames = ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad', 'nadam', 'adamw'] as const;
export type OptimizerName = (typeof optimizerNames)[number];

export const lossNames = [
  'binary_crossentropy', 'sparse_categorical_crossentropy', 'categorical_crossentropy', 'kl_divergence', 'focal',
  'mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error', 'huber',
] as const;
export type LossName = (typeof lossNames)[number];

/** The other names Keras users write for the losses (matched in any letter case: `MSE`, `BinaryCrossentropy`). */
export const lossAliases: Readonly<Record<string, LossName>> = {
  bce: 'binary_crossentropy', binarycrossentropy: 'binary_crossentropy',
  scce: 'sparse_categorical_crossentropy', sparsecategoricalcrossentropy: 'sparse_categorical_crossentropy',
  cce: 'categorical_crossentropy', categoricalcrossentropy: 'categorical_crossentropy',
  kld: 'kl_divergence', kldivergence: 'kl_divergence', kullback_leibler_divergence: 'kl_divergence',
  focal_loss: 'focal', binary_focal_crossentropy: 'focal', categorical_focal_crossentropy: 'focal', binaryfocalcrossentropy: 'focal', categoricalfocalcrossentropy: 'focal',
  mse: 'mean_squared_error', meansquarederror: 'mean_squared_error',
  mae: 'mean_absolute_error', meanabsoluteerror: 'mean_absolute_error',
  mape: 'mean_absolute_percentage_error', meanabsolutepercentageerror: 'mean_absolute_percentage_error',
  huber_loss: 'huber',
};

/** Kernel initializers (Keras names); every random one is seeded from the train seed. */
export const initializerNames = [
  'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal', 'random_uniform', 'random_normal', 'truncated_normal', 'orthogonal', 'zeros', 'ones',
] as const;
export type InitializerName = (typeof initializerNames)[number];

const activation = <O extends { default?: Activation } = {}>(description: string, o?: O) => f.enum(description, activations, o);
const kernelInitializer = f.enum('How the kernel weights start (seeded); default glorot_uniform.', initializerNames, {
  default: 'glorot_uniform',
  aliases: { xavier_uniform: 'glorot_uniform', xavier_normal: 'glorot_normal', kaiming_uniform: 'he_uniform', kaiming_normal: 'he_normal' },
  ignoreCase: true,
});
const kernelRegularizer = f.object('Weight penalties on the kernel, added to the loss: l1 · Σ|w| + l2 · Σw².', {
  l1: f.number('L1 factor.', { minimum: 0, default: 0 }),
  l2: f.number('L2 factor.', { minimum: 0, default: 0 }),
});
const units = f.int('Number of output units.', { minimum: 1 });
const rate = (what: string) => f.number(`Fraction of ${what} dropped during training.`, { minimum: 0, exclusiveMaximum: 1, default: 0 });
const l2 = f.number('L2 weight penalty on the kernel (0: none).', { minimum: 0, default: 0 });
const padding = f.enum('`valid`: no padding; `same`: pad so the output keeps the input length (stride 1).', ['valid', 'same'], { default: 'valid' });

const recurrent = <const N extends string>(name: N) =>
  f.object(
    `A ${name} recurrent layer.`,
    {
      type: f.enum('Layer type.', [name]),
      units,
      activation: activation('Activation of the candidate state and output.', { default: 'tanh' }),
      recurrent_activation: activation('Activation of the gates.', { default: 'sigmoid' }),
      return_sequences: f.bool('Output every time step ([batch, steps, units]) instead of the last one.', { default: false }),
      dropout: rate('the inputs'),
      recurrent_dropout: rate('the recurrent state'),
    },
    { required: ['type', 'units'] },
  );

const pooling = (kind: string) =>
  f.object(
    `${kind} pooling over windows of the time axis.`,
    {
      type: f.enum('Layer type.', [`${kind.toLowerCase()}_pooling1d`]),
      pool_size: f.int('Window length.', { minimum: 1, default: 2 }),
      strides: f.int('Step between windows (default: the window length).', { minimum: 1 }),
      padding,
    },
    { required: ['type'] },
  );

const pooling2d = (kind: string) =>
  f.object(
    `${kind} pooling over square windows of an image ([height, width, channels]).`,
    {
      type: f.enum('Layer type.', [`${kind.toLowerCase()}_pooling2d`]),
      pool_size: f.int('Window side.', { minimum: 1, default: 2 }),
      strides: f.int('Step between windows (default: the window side).', { minimum: 1 }),
      padding,
    },
    { required: ['type'] },
  );

const bare = <const T extends string>(type: T, description: string) => f.object(description, { type: f.enum('Layer type.', [type]) }, { required: ['type'] });

/** One declaration per layer type; the `type` key selects it. */
export const layerField = f.tagged('A model layer, selected by `type`.', 'type', {
  dense: f.object(
    'A fully connected layer.',
    {
      type: f.enum('Layer type.', ['dense']),
      units,
      activation: activation('Activation. Default: relu for a hidden layer; the task\'s output activation (sigmoid, softmax or linear) for the output layer.'),
      use_bias: f.bool('Add a bias vector.', { default: true }),
      l2,
      kernel_initializer: kernelInitializer,
      kernel_regularizer: kernelRegularizer,
    },
    { required: ['type', 'units'] },
  ),
  dropout: f.object(
    'Drops a random fraction of its inputs during training.',
    { type: f.enum('Layer type.', ['dropout']), rate: f.number('Fraction of inputs dropped.', { minimum: 0, exclusiveMaximum: 1 }) },
    { required: ['type', 'rate'] },
  ),
  embedding: f.object(
    'Maps token ids to dense vectors; the first layer of a text model.',
    {
      type: f.enum('Layer type.', ['embedding']),
      output_dim: f.int('Vector size per token.', { minimum: 1 }),
      input_dim: f.int('Vocabulary size (default: the dataset\'s vocabulary size).', { minimum: 2 }),
      mask_zero: f.bool('Treat token id 0 (padding) as masked for the recurrent layers after it.', { default: false }),
    },
    { required: ['type', 'output_dim'] },
  ),
  lstm: recurrent('lstm'),
  gru: recurrent('gru'),
  bidirectional: f.object(
    'Runs a recurrent layer forwards and backwards and merges the two outputs.',
    {
      type: f.enum('Layer type.', ['bidirectional']),
      layer: f.tagged('The recurrent layer to wrap.', 'type', { lstm: recurrent('lstm'), gru: recurrent('gru') }),
      merge_mode: f.enum('How the two directions are merged.', ['concat', 'sum', 'mul', 'ave'], { default: 'concat' }),
    },
    { required: ['type', 'layer'] },
  ),
  conv1d: f.object(
    'A 1-D convolution over the time axis.',
    {
      type: f.enum('Layer type.', ['conv1d']),
      filters: f.int('Number of filters (output channels).', { minimum: 1 }),
      kernel_size: f.int('Window length.', { minimum: 1 }),
      strides: f.int('Step between windows.', { minimum: 1, default: 1 }),
      padding,
      activation: activation('Activation.', { default: 'relu' }),
      l2,
      kernel_initializer: kernelInitializer,
      kernel_regularizer: kernelRegularizer,
    },
    { required: ['type', 'filters', 'kernel_size'] },
  ),
  max_pooling1d: pooling('Max'),
  avg_pooling1d: pooling('Avg'),
  global_max_pooling1d: bare('global_max_pooling1d', 'The maximum over the time axis.'),
  global_avg_pooling1d: bare('global_avg_pooling1d', 'The mean over the time axis.'),
  conv2d: f.object(
    'A 2-D convolution over an image ([height, width, channels]; an image dataset, or a reshape before it).',
    {
      type: f.enum('Layer type.', ['conv2d']),
      filters: f.int('Number of filters (output channels).', { minimum: 1 }),
      kernel_size: f.int('Window side (square windows).', { minimum: 1 }),
      strides: f.int('Step between windows.', { minimum: 1, default: 1 }),
      padding,
      activation: activation('Activation.', { default: 'relu' }),
      l2,
      kernel_initializer: kernelInitializer,
      kernel_regularizer: kernelRegularizer,
    },
    { required: ['type', 'filters', 'kernel_size'] },
  ),
  max_pooling2d: pooling2d('Max'),
  avg_pooling2d: pooling2d('Avg'),
  global_max_pooling2d: bare('global_max_pooling2d', 'The maximum over height and width, per channel.'),
  global_avg_pooling2d: bare('global_avg_pooling2d', 'The mean over height and width, per channel.'),
  reshape: f.object(
    'Gives each sample a new shape with the same number of values, e.g. 64 pixel features → [8, 8, 1] for conv2d.',
    {
      type: f.enum('Layer type.', ['reshape']),
      target_shape: f.array('The shape per sample (batch axis excluded).', f.int('A dimension.', { minimum: 1 }), { minItems: 1 }),
    },
    { required: ['type', 'target_shape'] },
  ),
  layer_normalization: f.object(
    'Normalizes each sample over its last axis (mean 0, variance 1), then scales and shifts (learned).',
    {
      type: f.enum('Layer type.', ['layer_normalization']),
      epsilon: f.number('Added to the variance.', { exclusiveMinimum: 0, default: 0.001 }),
    },
    { required: ['type'] },
  ),
  flatten: bare('flatten', 'Flattens all but the batch axis.'),
  batch_normalization: f.object(
    'Normalizes its inputs with batch statistics (moving averages at inference).',
    {
      type: f.enum('Layer type.', ['batch_normalization']),
      momentum: f.number('Momentum of the moving averages.', { minimum: 0, maximum: 1, default: 0.99 }),
      epsilon: f.number('Added to the variance.', { exclusiveMinimum: 0, default: 0.001 }),
    },
    { required: ['type'] },
  ),
});

/** Preset knobs; each preset reads the ones that apply to it. */
const presetOptions = {
  hidden_units: f.array('mlp: units of each hidden dense layer.', f.int('Units.', { minimum: 1 }), { default: [64, 64] }),
  activation: activation('mlp: activation of the hidden layers.', { default: 'relu' }),
  dropout: f.number('mlp: dropout after each hidden layer; text_classifier: dropout before the output layer.', { minimum: 0, exclusiveMaximum: 1, default: 0 }),
  embedding_dim: f.int('text_classifier, and default text encoders of a multi-input model: vector size per token.', { minimum: 1, default: 16 }),
  units: f.int('text_classifier: units of the recurrent layer.', { minimum: 1, default: 32 }),
  cell: f.enum('text_classifier: the recurrent layer type.', ['lstm', 'gru'], { default: 'lstm' }),
  bidirectional: f.bool('text_classifier: run the recurrent layer in both directions.', { default: false }),
  l2: f.number('L2 weight penalty on dense kernels (0: none).', { minimum: 0, default: 0 }),
};

/** `model:` — a preset name, a preset with overrides, or an explicit layer list. */
export const modelField = f.oneOf(
  'The network: a preset name (logistic_regression, mlp, text_classifier), `{preset, ...options}`, or `{layers: [...]}`. The output layer is added from the task when the last layer is not one; with several targets, one output layer per target is added after `layers`.',
  [
    f.enum('A preset with its default options.', presetNames, { aliases: presetAliases, ignoreCase: true }),
    f.object(
      'A preset with options, or an explicit list of layers.',
      {
        preset: f.enum('The preset to expand.', presetNames, { aliases: presetAliases, ignoreCase: true }),
        layers: f.array('Layers in order, input first; on a multi-input dataset, the layers after the encoded inputs are concatenated (the combiner). Default on a multi-input dataset: the preset\'s hidden layers (none for logistic_regression).', layerField, { minItems: 1 }),
        inputs: f.map(
          'Multi-input datasets (text with tabular columns, or several texts): the encoder of each input by name — a text column, or `features` for the tabular columns. Default encoders: text embedding(embedding_dim) → global_avg_pooling1d (text_classifier: embedding → the recurrent layer), tabular columns unchanged.',
          f.object('The encoder of one input.', { layers: f.array('Layers in order; a text encoder starts with an embedding. A sequence output is flattened before the concatenation.', layerField, { minItems: 1 }) }, { required: ['layers'] }),
        ),
        ...presetOptions,
      },
    ),
  ],
);

/** The momentum each optimizer uses when `momentum` is not given. */
export const momentumDefaults: Partial<Record<OptimizerName, number>> = { momentum: 0.9, rmsprop: 0 };

const optimizerName = <O extends { default?: OptimizerName } = {}>(description: string, o?: O) =>
  f.enum(description, optimizerNames, { ...(o as O), aliases: { gradient_descent: 'sgd' }, ignoreCase: true });

/** adamw's weight decay when none is given. */
export const ADAMW_WEIGHT_DECAY = 0.004;

/** Learning-rate schedules, applied per epoch; the rate of each epoch is logged as the metric `lr`. */
export const scheduleField = f.tagged('A learning-rate schedule, selected by `type`; the rate is set at the start of each epoch and logged as `lr`.', 'type', {
  exponential: f.object('rate = learning_rate · decay_rate^(epoch / decay_epochs).', {
    type: f.enum('Schedule type.', ['exponential']),
    decay_rate: f.number('Factor per decay_epochs.', { exclusiveMinimum: 0, maximum: 1, default: 0.9 }),
    decay_epochs: f.number('Epochs over which the rate shrinks by decay_rate.', { exclusiveMinimum: 0, default: 1 }),
  }, { required: ['type'] }),
  step: f.object('rate = learning_rate · gamma^floor(epoch / step_size).', {
    type: f.enum('Schedule type.', ['step']),
    step_size: f.int('Epochs between drops.', { minimum: 1, default: 10 }),
    gamma: f.number('Factor at each drop.', { exclusiveMinimum: 0, maximum: 1, default: 0.1 }),
  }, { required: ['type'] }),
  cosine: f.object('Cosine decay from learning_rate to min_lr over the training epochs.', {
    type: f.enum('Schedule type.', ['cosine']),
    min_lr: f.number('The rate at the last epoch.', { minimum: 0, default: 0 }),
  }, { required: ['type'] }),
  reduce_on_plateau: f.object('Multiplies the rate by factor when monitor has not improved for patience epochs (Keras ReduceLROnPlateau).', {
    type: f.enum('Schedule type.', ['reduce_on_plateau']),
    monitor: f.string('The logged metric watched, e.g. val_loss or val_auc.', { default: 'val_loss' }),
    factor: f.number('Factor applied on a plateau.', { exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1 }),
    patience: f.int('Epochs without improvement before reducing.', { minimum: 0, default: 10 }),
    min_delta: f.number('The smallest change that counts as an improvement.', { minimum: 0, default: 0.0001 }),
    min_lr: f.number('The rate never goes below this.', { minimum: 0, default: 0 }),
  }, { required: ['type'] }),
});

/** `optimizer:` — a name, or a name with settings. */
export const optimizerField = f.oneOf('The optimizer: a name (any letter case: `Adam`), or `{name, learning_rate, ...}`.', [
  optimizerName('An optimizer with its default settings.'),
  f.object('An optimizer with settings.', {
    name: optimizerName('The update rule.', { default: 'adam' }),
    learning_rate: f.number('Step size (alias lr).', { exclusiveMinimum: 0, default: 0.001 }),
    decay: f.number('Time-based decay per epoch: the rate at epoch e is learning_rate / (1 + decay * e).', { minimum: 0, default: 0 }),
    momentum: f.number(`Momentum term of the momentum optimizer (default ${momentumDefaults.momentum}) and of rmsprop (default ${momentumDefaults.rmsprop}); other optimizers ignore it.`, { minimum: 0, exclusiveMaximum: 1 }),
    weight_decay: f.number(`adamw: decoupled weight decay, w -= learning_rate · weight_decay · w each step (default ${ADAMW_WEIGHT_DECAY}, as Keras).`, { minimum: 0 }),
    clipnorm: f.number('Rescale each gradient whose L2 norm exceeds this to that norm.', { exclusiveMinimum: 0 }),
    clipvalue: f.number('Clip each gradient element to [-clipvalue, clipvalue].', { exclusiveMinimum: 0 }),
    schedule: scheduleField,
  }, { keyAliases: { lr: 'learning_rate' } }),
], { default: 'adam' });

const lossName = (description: string) => f.enum(description, lossNames, { aliases: lossAliases, ignoreCase: true });

/** `loss:` — a name (Keras spellings accepted), or a name with settings. */
export const lossField = f.oneOf(
  'Training loss: a name (mse, mae, mape, bce, huber, kld, focal, … in any letter case) or `{name, label_smoothing, gamma, alpha, delta}`. Default from the task: binary_crossentropy, sparse_categorical_crossentropy or mean_squared_error.',
  [
    lossName('A loss with its default settings.'),
    f.object('A loss with settings.', {
      name: lossName('The loss.'),
      label_smoothing: f.number('Classification: targets become (1 - s) · one-hot + s / classes (binary: s / 2).', { minimum: 0, maximum: 1, default: 0 }),
      gamma: f.number('focal: the focusing exponent; 0 is cross-entropy.', { minimum: 0, default: 2 }),
      alpha: f.number('focal, binary: the weight of class 1 (class 0 gets 1 - alpha); unset: no class balancing.', { minimum: 0, maximum: 1 }),
      delta: f.number('huber: where the loss turns from quadratic to linear.', { exclusiveMinimum: 0, default: 1 }),
    }, { required: ['name'] }),
  ],
);

const lossObject = lossField.variants[1];

/** A loss with its settings, after validation (defaults applied): `{name, label_smoothing, gamma, delta, alpha?}`. */
export type LossSpec = Infer<typeof lossObject>;

/** The loss of a `loss:` value, with every default filled. */
export function lossSpecOf(config: LossConfig): LossSpec {
  const given = typeof config === 'string' ? { name: config } : config;
  const d = (key: 'label_smoothing' | 'gamma' | 'delta'): number => lossObject.properties[key].default;
  return { name: given.name, label_smoothing: given.label_smoothing ?? d('label_smoothing'), gamma: given.gamma ?? d('gamma'), delta: given.delta ?? d('delta'), ...(given.alpha !== undefined ? { alpha: given.alpha } : {}) };
}

/*
 * The types of these declarations, derived from them. The model, its layers, the optimizer and the
 * loss are typed as written (`InferInput`: keys with a declared default may be missing), because
 * build-model fills the declared defaults in itself: presets expand into layers built in code, and
 * tests hand these functions literal configs. A stage's validated config (`Infer`) is assignable to
 * each of them.
 */

/** A layer as written in a spec (snake_case keys, `type` tag). */
export type LayerConfig = InferInput<typeof layerField>;

export type RecurrentConfig = Extract<LayerConfig, { type: 'lstm' | 'gru' }>;

export type LayerType = LayerConfig['type'];

/** The preset knobs (`presetOptions`) as written. */
export type PresetOptions = InferInput<{ type: 'object'; properties: typeof presetOptions }>;

/** `model:` as written: a preset name, or `{preset?, layers?, inputs?, ...PresetOptions}`. */
export type ModelConfig = InferInput<typeof modelField>;

/** A learning-rate schedule after validation (every setting filled). */
export type ScheduleConfig = Infer<typeof scheduleField>;

/** `optimizer:` after validation: a name, or `{name, learning_rate, decay, …, schedule?}` with the declared defaults filled. */
export type OptimizerConfig = Infer<typeof optimizerField>;

/** `loss:` as written: a name, or `{name, …}`; {@link lossSpecOf} fills the defaults. */
export type LossConfig = InferInput<typeof lossField>;

/** The kernel settings dense and conv layers share, as written. */
export type KernelOptions = Pick<Extract<LayerConfig, { type: 'dense' }>, 'l2' | 'kernel_initializer' | 'kernel_regularizer'>;

/** The declared default of an object field's property, so code never restates one. */
export function fieldDefault<T>(field: Field, key: string): T {
  if (field.type === 'object') return field.properties[key]?.default as T;
  if (field.type === 'oneOf') {
    for (const v of field.variants) if (v.type === 'object' && key in v.properties) return v.properties[key]!.default as T;
  }
  throw new Error(`no property ${key} in ${field.description}`);
}
