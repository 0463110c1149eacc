import type { NamedAttrMap, NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';
import { isFusedDenseLayer } from './kernels/fused-dense-layer.js';
import { isInputLayer } from './training-forward.js';
import { DENSE_FORWARD, DENSE_GRAD, denseActivations, type DenseActivation, type DenseAttrs } from './kernels/fused-dense.js';

interface DenseInternals {
  getClassName(): string;
  built: boolean;
  trainable: boolean;
  kernel: { read(): Tensor } | null;
  bias: { read(): Tensor } | null;
  activation: { getClassName(): string };
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
}

/** One dense layer of the stack: its variables and fused-kernel attributes. */
interface StackLayer {
  kernel: Variable;
  bias: Variable | null;
  attrs: DenseAttrs;
}

/**
 * A sequential model made only of dense layers (logistic regression, an MLP) trained without the
 * gradient tape: the forward pass runs mlpipe's fused dense kernel per layer, the backward pass
 * the same kernels as that kernel's registered gradient (DENSE_GRAD for ∂loss/∂z and the bias
 * gradient, then the two matmuls), so the gradients are those the tape would compute, without
 * tfjs-layers' graph execution and the tape's bookkeeping around a few small kernels (most of
 * such a model's step). Undefined when the model is anything else: a non-dense layer, a frozen
 * layer, the stock Dense class (`fused: false`), a regularizer, an activation the fused kernel lacks, a backend without it.
 */
export function denseStack(tf: Tf, model: LayersModel, variables: readonly Variable[]): StackLayer[] | undefined {
  if (!(model instanceof tf.Sequential) || tf.getKernel(DENSE_FORWARD, tf.getBackend()) === undefined) return undefined;
  // A model built from `tf.input` lists its InputLayer first: not a computation.
  const layers = (model.layers as unknown as DenseInternals[]).filter((l) => !isInputLayer(l));
  const stack: StackLayer[] = [];
  for (const l of layers) {
    const activation = l.activation?.getClassName() as DenseActivation;
    const plain = isFusedDenseLayer(tf, l) && l.built && l.trainable && l.kernel && !l.kernelRegularizer && !l.biasRegularizer && !l.activityRegularizer;
    if (!plain || !denseActivations.includes(activation)) return undefined;
    stack.push({ kernel: l.kernel!.read() as Variable, bias: l.bias ? (l.bias.read() as Variable) : null, attrs: { activation, hasBias: l.bias !== null } });
  }
  const own = stack.flatMap((s) => (s.bias ? [s.kernel, s.bias] : [s.kernel]));
  if (stack.length === 0 || own.length !== variables.length || own.some((v, i) => v !== variables[i])) return undefined;
  return stack;
}

/**
 * The gradients of every variable of `stack` (by variable name) for the input `x` ([rows, features]),
 * where `lossGradient` takes the model's output values and returns ∂loss/∂output (same layout).
 * Tensors it returns are the caller's to dispose.
 */
export function denseStackGradients(tf: Tf, stack: readonly StackLayer[], x: Tensor, lossGradient: (pred: Float32Array) => Float32Array): NamedTensorMap {
  const engine = tf.engine();
  return tf.tidy(() => {
    const outputs: Tensor[] = [x];
    for (const s of stack) {
      const inputs: NamedTensorMap = { x: outputs[outputs.length - 1]!, kernel: s.kernel };
      if (s.bias) inputs.bias = s.bias;
      outputs.push(engine.runKernel(DENSE_FORWARD, inputs, s.attrs as unknown as NamedAttrMap) as Tensor);
    }
    const pred = outputs[stack.length]!;
    let dy = tf.tensor(lossGradient(pred.dataSync() as Float32Array), pred.shape, 'float32');
    const grads: NamedTensorMap = {};
    for (let i = stack.length - 1; i >= 0; i--) {
      const s = stack[i]!;
      const [dz, db] = engine.runKernel(DENSE_GRAD, { dy, y: outputs[i + 1]! }, s.attrs as unknown as NamedAttrMap) as Tensor[];
      grads[s.kernel.name] = tf.matMul(outputs[i]!, dz!, true, false);
      if (s.bias) grads[s.bias.name] = db!;
      if (i > 0) dy = tf.matMul(dz!, s.kernel, false, true);
    }
    return grads;
  });
}
