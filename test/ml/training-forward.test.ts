import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadTf } from '../../src/ml/backend.js';
import { trainingForward } from '../../src/ml/training-forward.js';
import { random } from './layer-grads.js';

const values = (t: Tensor | Tensor[]) => Array.from((t as Tensor).dataSync());

describe('trainingForward (a sequential model\'s layers called in turn instead of model.apply)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives model.apply's output for a conv model (${backend})`, async () => {
      const { tf } = await loadTf(backend);
      const model: LayersModel = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [9, 7, 3], filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2 }),
        ],
      });
      const x = tf.tensor4d(random(2 * 9 * 7 * 3, 3), [2, 9, 7, 3]);
      const direct = tf.tidy(() => values(trainingForward(tf, model)(x)));
      expect(direct).toEqual(tf.tidy(() => values(model.apply(x, { training: true }) as Tensor)));
      x.dispose();
      model.dispose();
    });
  }

  it('keeps model.apply where a layer passes a mask (mask_zero embedding before an LSTM)', async () => {
    const { tf } = await loadTf('cpu');
    const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputLength: 5 }), tf.layers.lstm({ units: 2 })] });
    const x = tf.tensor2d([[3, 4, 0, 0, 0], [1, 2, 5, 6, 0]], [2, 5], 'int32');
    const unmasked = tf.tidy(() => values(model.layers.reduce<Tensor>((h, l) => l.call(h, {}) as Tensor, x)));
    const direct = tf.tidy(() => values(trainingForward(tf, model)(x)));
    const applied = tf.tidy(() => values(model.apply(x, { training: true }) as Tensor));
    expect(direct).toEqual(applied);
    // The mask matters here: calling the layers without it gives another output.
    expect(unmasked).not.toEqual(applied);
    x.dispose();
    model.dispose();
  });
});
