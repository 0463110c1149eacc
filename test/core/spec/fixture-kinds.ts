import { f } from '../../../src/schema/fields.js';
import { shell } from '../../../src/stages/shell.js';
import type { StageKind, StageKinds } from '../../../src/core/stage-kind.js';

/**
 * Small stand-ins for the ML kinds, so loader tests do not change when the real kinds' schemas do.
 * Tests pass them to `loadSpec` as `kinds: fakeRegistry`.
 */
const noop = async (): Promise<void> => {};

export const fakePrepare: StageKind = {
  kind: 'preprocess',
  version: 1,
  description: 'Test stand-in for preprocess.',
  config: f.object(
    'Preprocess settings.',
    {
      input: f.path('The data file.'),
      target: f.string('The label column.'),
      split: f.object(
        'How to split.',
        { test: f.number('Test share.', { exclusiveMinimum: 0, maximum: 1, default: 0.2 }), seed: f.int('Seed.', { default: 42 }) },
        { default: {} },
      ),
    },
    { required: ['input'] },
  ),
  outputs: () => ({ dataset: { path: 'dataset', location: 'stage' } }),
  run: noop,
};

export const fakeTrain: StageKind = {
  kind: 'train',
  version: 1,
  description: 'Test stand-in for train.',
  config: f.object(
    'Training settings.',
    {
      data: f.path('The prepared dataset.'),
      epochs: f.int('Passes over the data.', { minimum: 1, default: 10 }),
      batch_size: f.int('Rows per step.', { minimum: 1, default: 32 }),
      optimizer: f.object(
        'The optimizer.',
        { name: f.enum('Optimizer name.', ['adam', 'sgd'], { default: 'adam' }), learning_rate: f.number('Step size.', { exclusiveMinimum: 0, default: 0.001 }) },
        { default: {} },
      ),
      model: f.object('The model.', {
        layers: f.array(
          'Layers in order.',
          f.tagged('One layer.', 'type', {
            dense: f.object('A dense layer.', { units: f.int('Units.', { minimum: 1 }), activation: f.enum('Activation.', ['relu', 'sigmoid'], { default: 'relu' }) }, { required: ['units'] }),
            dropout: f.object('A dropout layer.', { rate: f.number('Rate.', { minimum: 0, maximum: 1 }) }, { required: ['rate'] }),
          }),
          { minItems: 1 },
        ),
      }),
      tag: f.string('A free label.'),
      shuffle: f.bool('Shuffle rows.', { default: true }),
    },
    { required: ['data'] },
  ),
  outputs: () => ({ model: { path: 'model', location: 'stage' } }),
  run: noop,
};

export const fakeEvaluate: StageKind = {
  kind: 'evaluate',
  version: 1,
  description: 'Test stand-in for evaluate.',
  config: f.object('Evaluation settings.', {
    model: f.path('The model.'),
    data: f.path('The dataset.'),
    metrics: f.array('Metrics.', f.enum('A metric.', ['accuracy', 'f1']), { default: ['accuracy'] }),
  }, { required: ['model', 'data'] }),
  outputs: () => ({ metrics: { path: 'metrics.json', location: 'stage' } }),
  cache: false,
  run: noop,
};

export const fakeKinds: StageKind[] = [shell, fakePrepare, fakeTrain, fakeEvaluate];

/** The registry tests hand to `loadSpec`: a shell kind and three fake ML kinds. */
export const fakeRegistry: StageKinds = new Map(fakeKinds.map((k) => [k.kind, k]));
