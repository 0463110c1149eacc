import { f } from '../../schema/fields.js';

const copies = f.int('Perturbed copies of each train row added.', { minimum: 1, default: 1 });
const probability = (d: string) => f.number(d, { minimum: 0, exclusiveMaximum: 1, default: 0 });

/** The `augment` block of a preprocess stage (see augment-split.ts for what each does). */
export const augmentField = f.object(
  'Augmentation and resampling of the train split only (validation and test are left as read), seeded; the stage metrics give the train rows before and after, per class.',
  {
    seed: f.int('The seed of every random draw here; default: split.seed.'),
    resample: f.object(
      'Balances the classes of a classification target: random over-sampling (duplicates), random under-sampling, or SMOTE (new rows interpolated between a row and one of its nearest same-class neighbours on the numeric inputs; categorical inputs are copied from the row).',
      {
        method: f.enum('oversample, undersample or smote.', ['oversample', 'undersample', 'smote']),
        ratio: f.number('oversample/smote: every class grows to at least ratio × the largest class; undersample: every class shrinks to at most the smallest class / ratio.', { exclusiveMinimum: 0, maximum: 1, default: 1 }),
        k_neighbors: f.int('smote: the nearest neighbours a new row may be drawn towards.', { minimum: 1, default: 5 }),
      },
      { required: ['method'] },
    ),
    noise: f.object(
      'Gaussian noise on the numeric inputs (numeric and date columns, image pixels; one-hot and ordinal columns untouched), in the units of the encoded column (standard deviations under normalize: zscore).',
      { std: f.number('The standard deviation of the noise.', { exclusiveMinimum: 0, default: 0.1 }), copies },
    ),
    text: f.object(
      'Token-level augmentation of every text input, on the token ids: random deletion, random swaps and synonym-free token dropout (a token becomes the out-of-vocabulary token).',
      {
        deletion: probability('The probability that each token is deleted (one is always kept).'),
        swap: f.int('Random swaps of two tokens per text.', { minimum: 0, default: 0 }),
        dropout: probability('The probability that each token becomes the out-of-vocabulary token.'),
        copies,
      },
    ),
    image: f.object(
      'Random image transforms (an image dataset, preprocess `image:`): flips with probability ½ each, a shift and a rotation about the centre; nearest pixel, black outside.',
      {
        flip: f.enum('Which flips may happen.', ['none', 'horizontal', 'vertical', 'both'], { default: 'none' }),
        shift: f.number('The largest shift, as a fraction of the width (height), each way.', { minimum: 0, maximum: 0.5, default: 0 }),
        rotate: f.number('The largest rotation in degrees, each way.', { minimum: 0, maximum: 45, default: 0 }),
        copies,
      },
    ),
  },
);
