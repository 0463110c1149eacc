import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { buildModel, resolveModel, type ResolvedModel } from '../../src/ml/build-model.js';
import { makeMeta } from './fixtures.js';

const tabular = (task: 'binary' | 'multiclass' | 'regression') => makeMeta({ task, features: 4 });
const text = makeMeta({ task: 'binary', kind: 'text', vocab: 20, maxLength: 6 });

describe('resolveModel', () => {
  it('logistic_regression on a binary task is one sigmoid unit with binary cross-entropy', () => {
    const r = resolveModel('logistic_regression', tabular('binary'));
    expect(r.layers).toEqual([{ type: 'dense', units: 1, activation: 'sigmoid', use_bias: true, l2: 0 }]);
    expect(r).toMatchObject({ loss: 'binary_crossentropy', inputShape: [4], inputDtype: 'float32', output: { kind: 'sigmoid', units: 1 } });
  });

  it('mlp on a 3-class task: two relu hidden layers, then 3 softmax units with sparse cross-entropy', () => {
    const r = resolveModel('mlp', tabular('multiclass'));
    expect(r.layers.map((l) => [l.type, 'units' in l ? l.units : null, 'activation' in l ? l.activation : null])).toEqual([
      ['dense', 64, 'relu'],
      ['dense', 64, 'relu'],
      ['dense', 3, 'softmax'],
    ]);
    expect(r.loss).toBe('sparse_categorical_crossentropy');
  });

  it('preset overrides: hidden units, dropout and activation', () => {
    const r = resolveModel({ preset: 'mlp', hidden_units: [8], dropout: 0.25, activation: 'tanh' }, tabular('regression'));
    expect(r.layers.map((l) => l.type)).toEqual(['dense', 'dropout', 'dense']);
    expect(r.layers[0]).toMatchObject({ units: 8, activation: 'tanh' });
    expect(r.layers[2]).toMatchObject({ units: 1, activation: 'linear' });
    expect(r.loss).toBe('mean_squared_error');
  });

  it('text_classifier: embedding sized to the vocabulary, lstm, sigmoid output; int32 input', () => {
    const r = resolveModel('text_classifier', text);
    expect(r.layers).toEqual([
      { type: 'embedding', output_dim: 16, input_dim: 20, mask_zero: false },
      { type: 'lstm', units: 32, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: false, dropout: 0, recurrent_dropout: 0 },
      { type: 'dense', units: 1, activation: 'sigmoid', use_bias: true, l2: 0 },
    ]);
    expect(r.inputDtype).toBe('int32');
    expect(r.inputShape).toEqual([6]);
    const bi = resolveModel({ preset: 'text_classifier', cell: 'gru', bidirectional: true, units: 4 }, text);
    expect(bi.layers[1]).toMatchObject({ type: 'bidirectional', merge_mode: 'concat', layer: { type: 'gru', units: 4, return_sequences: false } });
  });

  it('keeps a written output layer (the DESIGN example) and fills its activation from the task', () => {
    const written = resolveModel(
      { layers: [{ type: 'embedding', output_dim: 8 }, { type: 'lstm', units: 4 }, { type: 'dense', units: 1, activation: 'sigmoid' }] },
      text,
    );
    expect(written.layers.map((l) => l.type)).toEqual(['embedding', 'lstm', 'dense']);
    const implicit = resolveModel({ layers: [{ type: 'dense', units: 16 }, { type: 'dense', units: 3 }] }, tabular('multiclass'));
    expect(implicit.layers.map((l) => 'activation' in l && l.activation)).toEqual(['relu', 'softmax']);
  });

  it('adds flatten before an appended output layer after a sequence, and reshapes tabular input for conv1d', () => {
    const r = resolveModel({ layers: [{ type: 'conv1d', filters: 2, kernel_size: 2 }] }, tabular('binary'));
    expect(r.layers.map((l) => l.type)).toEqual(['reshape', 'conv1d', 'flatten', 'dense']);
    expect(r.layers[0]).toEqual({ type: 'reshape', target_shape: [4, 1] });
    expect(r.notes).toHaveLength(2);
  });

  it('binary with sparse_categorical_crossentropy gets two softmax units', () => {
    expect(resolveModel('logistic_regression', tabular('binary'), 'sparse_categorical_crossentropy').output).toEqual({ kind: 'softmax', units: 2 });
  });

  it('rejects configs that cannot fit the dataset', () => {
    expect(() => resolveModel('text_classifier', tabular('binary'))).toThrow(/needs a text dataset/);
    expect(() => resolveModel('mlp', text)).toThrow(/needs a tabular dataset/);
    expect(() => resolveModel({ layers: [{ type: 'embedding', output_dim: 4 }] }, tabular('binary'))).toThrow(/embedding needs a text dataset/);
    expect(() => resolveModel({ layers: [{ type: 'lstm', units: 4 }] }, text)).toThrow(/first layer must be an embedding/);
    expect(() => resolveModel({ layers: [{ type: 'embedding', output_dim: 4, input_dim: 5 }] }, text)).toThrow(/smaller than the vocabulary/);
    expect(() => resolveModel('mlp', tabular('multiclass'), 'binary_crossentropy')).toThrow(/needs two classes/);
    expect(() => resolveModel('mlp', tabular('binary'), 'mean_squared_error')).toThrow(/for regression/);
    expect(() => resolveModel('mlp', tabular('regression'), 'binary_crossentropy')).toThrow(/for classification/);
    expect(() => resolveModel({ layers: [{ type: 'flatten' }] }, tabular('binary'))).toThrow(/already flat/);
    expect(() => resolveModel({ preset: 'mlp', layers: [{ type: 'flatten' }] }, tabular('binary'))).toThrow(/either `preset` or `layers`/);
    expect(() => resolveModel({ layers: [{ type: 'embedding', output_dim: 4 }, { type: 'dense', units: 1 }] }, text)).toThrow(/receives a sequence/);
  });
});

describe('buildModel', () => {
  let tf: Tf;
  beforeAll(async () => {
    ({ tf } = await loadTf('cpu'));
  });

  const weightsOf = (r: ResolvedModel, seed: number): number[][] => {
    const m = buildModel(tf, r, seed);
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };

  it('builds every layer type with the resolved shapes and parameter counts', () => {
    const r = resolveModel(
      {
        layers: [
          { type: 'embedding', output_dim: 4 },
          { type: 'conv1d', filters: 3, kernel_size: 2, padding: 'same' },
          { type: 'max_pooling1d', pool_size: 2 },
          { type: 'batch_normalization' },
          { type: 'bidirectional', layer: { type: 'gru', units: 2, return_sequences: true } },
          { type: 'lstm', units: 3, return_sequences: true },
          { type: 'avg_pooling1d', pool_size: 1 },
          { type: 'global_avg_pooling1d' },
          { type: 'dropout', rate: 0.5 },
        ],
      },
      text,
    );
    const m = buildModel(tf, r, 1);
    expect(m.layers.map((l) => l.name)).toEqual([
      'input', 'embedding_1', 'conv1d_2', 'max_pooling1d_3', 'batch_normalization_4', 'bidirectional_5', 'lstm_6', 'avg_pooling1d_7', 'global_avg_pooling1d_8', 'dropout_9', 'dense_10',
    ]);
    expect(m.outputs[0]!.shape).toEqual([null, 1]);
    expect(m.layers[1]!.countParams()).toBe(20 * 4);
    expect(m.layers[2]!.countParams()).toBe(2 * 4 * 3 + 3);
    expect(m.layers[6]!.countParams()).toBe(4 * (3 * (4 + 3) + 3));
    const x = tf.tensor2d([[2, 3, 4, 5, 0, 0]], [1, 6], 'int32');
    const y = m.predict(x) as import('@tensorflow/tfjs-core').Tensor;
    expect(y.shape).toEqual([1, 1]);
    tf.dispose([x, y]);
    m.dispose();

    const flat = buildModel(tf, resolveModel({ layers: [{ type: 'global_max_pooling1d' }, { type: 'dense', units: 3 }] }, tabular('multiclass')), 1);
    expect(flat.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Reshape', 'GlobalMaxPooling1D', 'Dense']);
    flat.dispose();
    const f2 = buildModel(tf, resolveModel({ layers: [{ type: 'conv1d', filters: 2, kernel_size: 3 }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'tanh', l2: 0.01 }] }, tabular('regression')), 1);
    expect(f2.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Reshape', 'Conv1D', 'Flatten', 'Dense', 'Dense']);
    expect(f2.outputs[0]!.shape).toEqual([null, 1]);
    f2.dispose();
  });

  it('mlp hidden_units [3] on a 3-class task keeps its hidden layer and adds the softmax output (no merge)', () => {
    const r = resolveModel({ preset: 'mlp', hidden_units: [3] }, tabular('multiclass'));
    expect(r.layers.map((l) => [l.type, 'units' in l ? l.units : null, 'activation' in l ? l.activation : null])).toEqual([
      ['dense', 3, 'relu'],
      ['dense', 3, 'softmax'],
    ]);
    const m = buildModel(tf, r, 1);
    expect(m.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'Dense']);
    expect(m.layers.slice(1).map((l) => (l.getWeights()[0]!.shape))).toEqual([[4, 3], [3, 3]]);
    expect(m.outputs[0]!.shape).toEqual([null, 3]);
    m.dispose();
    const bin = resolveModel({ preset: 'mlp', hidden_units: [1] }, tabular('binary'));
    expect(bin.layers.map((l) => 'activation' in l && l.activation)).toEqual(['relu', 'sigmoid']);
  });

  it('initial weights depend only on the seed', () => {
    const r = resolveModel('text_classifier', text);
    const a = weightsOf(r, 7);
    expect(weightsOf(r, 7)).toEqual(a);
    expect(weightsOf(r, 8)).not.toEqual(a);
    expect(a[0]!.some((v) => v !== 0)).toBe(true);
  });
});
