import { describe, expect, it } from 'vitest';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { buildModel, createOptimizer, resolveModel } from '../../src/ml/build-model.js';
import { denseStack, denseStackGradients, heapDenseStep } from '../../src/ml/dense-stack-step.js';
import { fusedDenseLayerClass } from '../../src/ml/kernels/fused-dense-layer.js';
import { fitModel } from '../../src/ml/train-loop.js';
import { makeMeta } from './fixtures.js';
import { random } from './layer-grads.js';

type Act = 'linear' | 'relu' | 'sigmoid';
const layersOf: { units: number; activation: Act; useBias: boolean }[] = [
  { units: 7, activation: 'relu', useBias: true },
  { units: 5, activation: 'sigmoid', useBias: false },
  { units: 3, activation: 'linear', useBias: true },
];

/** A sequential model of `layersOf` (mlpipe's fused Dense unless `stock`) on 6 features, weights from fixed seeds. */
function stackModel(tf: Tf, stock = false): LayersModel {
  const Dense = fusedDenseLayerClass(tf);
  const model = tf.sequential();
  layersOf.forEach((args, i) => model.add(stock ? tf.layers.dense({ ...args, ...(i === 0 ? { inputShape: [6] } : {}) }) : new Dense({ ...args, ...(i === 0 ? { inputShape: [6] } : {}) })));
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(random(w.size, 20 + i), w.shape)));
  return model;
}

const variablesOf = (model: LayersModel): Variable[] => model.trainableWeights.map((w) => w.read() as Variable);

/** The tape's gradients of sum(model(x) · probe), by variable name. */
function tapeGradients(tf: Tf, model: LayersModel, x: Tensor, probe: Float32Array): Record<string, number[]> {
  return tf.tidy(() => {
    const p = tf.tensor(probe, [x.shape[0]!, 3]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as Tensor, p)) as never, variablesOf(model));
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
  });
}

/** Same weights and metrics, each within 1e-5. */
function expectClose(got: { metrics: Record<string, number>; weights: number[][] }, want: { metrics: Record<string, number>; weights: number[][] }): void {
  expect(Object.keys(got.metrics).sort()).toEqual(Object.keys(want.metrics).sort());
  for (const [k, v] of Object.entries(want.metrics)) expect(Math.abs(got.metrics[k]! - v)).toBeLessThan(1e-5);
  expect(got.weights.map((w) => w.length)).toEqual(want.weights.map((w) => w.length));
  got.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - want.weights[i]![j]!)).toBeLessThan(1e-5)));
}

describe('dense stack step (a sequential dense model trained without the gradient tape)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives the tape's gradients, and the stock layers' on the cpu backend (${backend})`, async () => {
      const { tf } = await loadTf(backend);
      const model = stackModel(tf);
      const x = tf.tensor2d(random(9 * 6, 1), [9, 6]);
      const probe = random(9 * 3, 2);
      const stack = denseStack(tf, model, variablesOf(model));
      expect(stack).toHaveLength(3);
      const grads = denseStackGradients(tf, stack!, x, (pred) => {
        expect(pred).toHaveLength(9 * 3);
        return Float32Array.from(probe);
      });
      const got = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
      tf.dispose(Object.values(grads));
      expect(Object.keys(got).sort()).toEqual(variablesOf(model).map((v) => v.name).sort());
      // The same kernels as the fused layer's registered gradient: equal, not merely close.
      expect(got).toEqual(tapeGradients(tf, model, x, probe));
      const cpu = (await loadTf('cpu')).tf;
      const stock = stackModel(cpu, true);
      const reference = Object.values(tapeGradients(cpu, stock, cpu.tensor2d(random(9 * 6, 1), [9, 6]), probe));
      variablesOf(model).forEach((v, i) => got[v.name]!.forEach((g, j) => expect(Math.abs(g - reference[i]![j]!)).toBeLessThan(1e-5)));
      tf.dispose(x);
      model.dispose();
      stock.dispose();
    });
  }

  it('applies only to a sequential stack of trainable fused dense layers without regularizers', async () => {
    const { tf } = await loadTf('wasm');
    const check = (model: LayersModel) => denseStack(tf, model, variablesOf(model));
    expect(check(stackModel(tf))).toBeDefined();
    expect(check(stackModel(tf, true))).toBeUndefined();
    const frozen = stackModel(tf);
    frozen.layers[1]!.trainable = false;
    expect(check(frozen)).toBeUndefined();
    const Dense = fusedDenseLayerClass(tf);
    const regularized = tf.sequential({ layers: [new Dense({ units: 2, inputShape: [3], kernelRegularizer: tf.regularizers.l2({ l2: 0.1 }) })] });
    expect(check(regularized)).toBeUndefined();
    const dropout = tf.sequential({ layers: [new Dense({ units: 2, inputShape: [3] }), tf.layers.dropout({ rate: 0.5 }), new Dense({ units: 1 })] });
    expect(check(dropout)).toBeUndefined();
    const tanh = tf.sequential({ layers: [new Dense({ units: 2, inputShape: [3], activation: 'tanh' })] });
    expect(check(tanh)).toBeUndefined();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`trains an MLP to the same weights as the tape does (fitModel, ${backend})`, async () => {
      const { tf } = await loadTf(backend);
      const meta = makeMeta({ task: 'binary', features: 6 });
      const n = 70;
      const x = random(n * 6, 5);
      const y = Float32Array.from({ length: n }, (_, i) => (x[i * 6]! + x[i * 6 + 1]! > 0 ? 1 : 0));
      const resolved = resolveModel({ layers: [{ type: 'dense', units: 9 }, { type: 'dense', units: 5, activation: 'sigmoid' }] }, { ...meta, splits: { train: { n, xShape: [n, 6], xDtype: 'float32', file: '' } } });
      const train = async (model: LayersModel) => {
        const optimizer = createOptimizer(tf, { name: 'adam', learning_rate: 0.01 });
        const result = await fitModel(tf, model, resolved, { x, xShape: [n, 6], y }, undefined, { epochs: 3, batchSize: 16, seed: 4, optimizer, metrics: ['auc'] }, () => {});
        optimizer.optimizer.dispose();
        return { metrics: result.final, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
      };
      const sequential = buildModel(tf, resolved, 7);
      expect(denseStack(tf, sequential, variablesOf(sequential))).toHaveLength(3);
      // The same layers as a functional model: not sequential, so trained through the tape.
      const input = tf.input({ shape: [6] });
      const Dense = fusedDenseLayerClass(tf);
      const functional = tf.model({ inputs: input, outputs: sequential.layers.filter((l) => l.getClassName() !== 'InputLayer').reduce((h, l) => new Dense(l.getConfig() as never).apply(h) as typeof input, input) });
      functional.setWeights(sequential.getWeights());
      expect(denseStack(tf, functional, variablesOf(functional))).toBeUndefined();
      const before = tf.memory().numTensors;
      const fast = await train(sequential);
      expect(tf.memory().numTensors).toBe(before);
      const tape = await train(functional);
      // wasm: the whole step runs on the heap (heapDenseStep: SIMD gemm, not XNNPACK), equal up to float rounding.
      if (backend === 'cpu') expect(fast).toEqual(tape);
      else expectClose(fast, tape);
      sequential.dispose();
      functional.dispose();
    });
  }

  for (const [label, layers, task] of [
    ['logistic regression (sigmoid, binary crossentropy)', [], 'binary'],
    ['an MLP with relu layers', [{ type: 'dense', units: 16 }, { type: 'dense', units: 8 }], 'binary'],
    ['a linear regression head on relu layers', [{ type: 'dense', units: 12 }], 'regression'],
  ] as const) {
    it(`the heap step (wasm) trains ${label} to the tf path's weights within 1e-5`, async () => {
      const { tf } = await loadTf('wasm');
      const meta = makeMeta({ task, features: 6 });
      const n = 150;
      const x = random(n * 6, 11);
      const y = Float32Array.from({ length: n }, (_, i) => (task === 'binary' ? (x[i * 6]! - x[i * 6 + 2]! > 0 ? 1 : 0) : x[i * 6]! * 0.5 + x[i * 6 + 1]!));
      const config = layers.length === 0 ? 'logistic_regression' : { layers: layers.map((l) => ({ ...l })) };
      const resolved = resolveModel(config as never, { ...meta, splits: { train: { n, xShape: [n, 6], xDtype: 'float32', file: '' } } });
      const train = async (model: LayersModel) => {
        const optimizer = createOptimizer(tf, { name: 'adam', learning_rate: 0.01 });
        const result = await fitModel(tf, model, resolved, { x, xShape: [n, 6], y }, { x: x.subarray(0, 30 * 6), xShape: [30, 6], y: y.subarray(0, 30) }, { epochs: 4, batchSize: 20, seed: 3, optimizer }, () => {});
        optimizer.optimizer.dispose();
        return { metrics: result.final, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
      };
      const sequential = buildModel(tf, resolved, 5);
      const stack = denseStack(tf, sequential, variablesOf(sequential));
      expect(stack).toBeDefined();
      const probe = createOptimizer(tf, { name: 'adam', learning_rate: 0.01 });
      const step = heapDenseStep(tf, stack!, probe.optimizer);
      expect(step).toBeDefined();
      step!.dispose();
      probe.optimizer.dispose();
      const input = tf.input({ shape: [6] });
      const Dense = fusedDenseLayerClass(tf);
      const functional = tf.model({ inputs: input, outputs: sequential.layers.filter((l) => l.getClassName() !== 'InputLayer').reduce((h, l) => new Dense(l.getConfig() as never).apply(h) as typeof input, input) });
      functional.setWeights(sequential.getWeights());
      const initial = sequential.getWeights().map((w) => Array.from(w.dataSync()));
      const before = tf.memory().numTensors;
      const fast = await train(sequential);
      expect(tf.memory().numTensors).toBe(before);
      const tape = await train(functional);
      expectClose(fast, tape);
      // The weights really moved (the comparison is not of two untrained models).
      expect(fast.weights[0]!.some((v, i) => Math.abs(v - initial[0]![i]!) > 1e-3)).toBe(true);
      sequential.dispose();
      functional.dispose();
    });
  }
});
