import { describe, expect, it } from 'vitest';
import { layerField } from '../../src/ml/model-config.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { makeMeta, stageContext, writeFixtureDataset } from './fixtures.js';

type Input = 'tabular' | 'text';

/**
 * One small model per layer type of the schema, each on the input it needs. A layer type added to
 * the schema without a case here fails the coverage test, so every layer is trained on every backend.
 */
const cases: Record<string, { input: Input; layers: Record<string, unknown>[] }> = {
  dense: { input: 'tabular', layers: [{ type: 'dense', units: 4, activation: 'tanh' }] },
  dropout: { input: 'tabular', layers: [{ type: 'dense', units: 4 }, { type: 'dropout', rate: 0.2 }] },
  embedding: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'flatten' }] },
  lstm: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'lstm', units: 3 }] },
  gru: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'gru', units: 3 }] },
  bidirectional: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'bidirectional', layer: { type: 'gru', units: 2 } }] },
  conv1d: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'conv1d', filters: 4, kernel_size: 2, padding: 'same' }, { type: 'global_max_pooling1d' }] },
  max_pooling1d: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'max_pooling1d', pool_size: 2 }] },
  avg_pooling1d: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'avg_pooling1d', pool_size: 2 }] },
  global_max_pooling1d: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'global_max_pooling1d' }] },
  global_avg_pooling1d: { input: 'text', layers: [{ type: 'embedding', output_dim: 3 }, { type: 'global_avg_pooling1d' }] },
  flatten: { input: 'tabular', layers: [{ type: 'conv1d', filters: 2, kernel_size: 1 }, { type: 'flatten' }] },
  batch_normalization: { input: 'tabular', layers: [{ type: 'dense', units: 4 }, { type: 'batch_normalization' }] },
  reshape: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'flatten' }] },
  conv2d: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'conv2d', filters: 3, kernel_size: 2, padding: 'same' }, { type: 'flatten' }] },
  max_pooling2d: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'conv2d', filters: 2, kernel_size: 1 }, { type: 'max_pooling2d', pool_size: 2 }] },
  avg_pooling2d: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'conv2d', filters: 2, kernel_size: 1 }, { type: 'avg_pooling2d', pool_size: 2 }] },
  global_max_pooling2d: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'conv2d', filters: 2, kernel_size: 2, padding: 'same' }, { type: 'global_max_pooling2d' }] },
  global_avg_pooling2d: { input: 'tabular', layers: [{ type: 'reshape', target_shape: [2, 2, 1] }, { type: 'conv2d', filters: 2, kernel_size: 2, padding: 'same' }, { type: 'global_avg_pooling2d' }] },
  layer_normalization: { input: 'tabular', layers: [{ type: 'dense', units: 4, activation: 'leaky_relu' }, { type: 'layer_normalization' }] },
};

async function dataset(input: Input): Promise<string> {
  const meta = input === 'text' ? makeMeta({ task: 'binary', kind: 'text', vocab: 10, maxLength: 6 }) : makeMeta({ task: 'binary', features: 4 });
  return writeFixtureDataset(meta, { train: 16 });
}

describe('every layer type of the schema trains on every embedded backend', () => {
  it('has a training case for each layer type', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(layerField.variants).sort());
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    for (const [type, c] of Object.entries(cases)) {
      it(`${type} on ${backend}: one epoch of two gradient steps gives a finite loss`, async () => {
        const data = await dataset(c.input);
        const rec = await stageContext<TrainConfig>(train, { data, model: { layers: c.layers }, epochs: 1, batch_size: 8, validation_split: 0 }, backend);
        const result = await train.run(rec.ctx);
        expect(result!.backend).toBe(backend);
        expect(Number.isFinite(result!.metrics!.loss)).toBe(true);
      });
    }
  }
});
