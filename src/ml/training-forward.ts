import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';

/** A model's InputLayer (listed first in `layers` when the model was built from `tf.input`): no computation. */
export function isInputLayer(layer: { getClassName(): string }): boolean {
  return layer.getClassName() === 'InputLayer';
}

interface EagerLayer {
  getClassName(): string;
  built: boolean;
  maskZero?: boolean;
  activityRegularizer?: unknown;
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
}

/**
 * The training forward pass of `model`: for a sequential model whose layers are built and pass no
 * masks (no `mask_zero` embedding) nor activity losses, each layer's `call` in turn; otherwise
 * `model.apply`. Same kernels, same result: what it skips is tfjs-layers' graph execution around
 * them (a name scope, input-spec checks and bookkeeping per layer and per model), which is most of
 * a small model's step (logistic regression: about a quarter of it here).
 */
export function trainingForward(tf: Tf, model: LayersModel): (x: Tensor | Tensor[]) => Tensor | Tensor[] {
  const layers = model instanceof tf.Sequential ? (model.layers as unknown as EagerLayer[]).filter((l) => !isInputLayer(l)) : undefined;
  const direct = layers !== undefined && layers.length > 0 && layers.every((l) => l.built && !l.maskZero && !l.activityRegularizer);
  if (!direct) return (x) => model.apply(x, { training: true }) as Tensor | Tensor[];
  const kwargs = { training: true };
  return (x) => tf.tidy(() => layers.reduce<Tensor | Tensor[]>((h, layer) => layer.call(h, kwargs), x));
}
