import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import { didYouMean } from '../schema/did-you-mean.js';
import type { DatasetMeta } from './dataset.js';
import { DataError } from './errors.js';
import type { ModelMeta } from './model-io.js';

type Layer = LayersModel['layers'][number];

const MISMATCH_HINT = 'init_from needs the architecture of the model it starts from: the same layers with weights, in the same order and of the same sizes; change model to match it, or train without init_from';

/** The model a warm start reads does not fit the one being trained: names the first layer that differs. */
export class ArchitectureMismatchError extends DataError {
  constructor(from: string, reason: string) {
    super(`init_from ${from}: ${reason}`, { hint: MISMATCH_HINT });
    this.name = 'ArchitectureMismatchError';
  }
}

const shape = (s: readonly (number | null)[]) => `[${s.join(', ')}]`;
const weightName = (w: { name: string }) => w.name.slice(w.name.lastIndexOf('/') + 1).replace(/_\d+$/, '');

/** The model's layers as a spec's `freeze:` counts them: every layer but the input layers, in order. */
export function trainableLayers(model: LayersModel): Layer[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * Checks that a warm start's source model predicts what this dataset asks, column for column: the
 * same encoded input features and the same labels in the same order (else its weights mean other things).
 */
export function checkSameData(from: string, source: ModelMeta, data: DatasetMeta): void {
  const was = source.dataset.featureNames;
  if (was.length > 0 && was.join('\u0000') !== data.featureNames.join('\u0000')) {
    const first = data.featureNames.findIndex((n, i) => n !== was[i]);
    throw new ArchitectureMismatchError(from, `it was trained on other input columns: column ${first + 1} is ${JSON.stringify(was[first] ?? '(none)')} there, ${JSON.stringify(data.featureNames[first] ?? '(none)')} here (${was.length} columns there, ${data.featureNames.length} here)`);
  }
  const labels = (m: { labels?: string[] }) => (m.labels ?? []).join('\u0000');
  if (source.labels && labels(source) !== labels(data)) {
    throw new ArchitectureMismatchError(from, `it predicts the labels [${source.labels.join(', ')}], this dataset has [${(data.labels ?? []).join(', ')}]`);
  }
}

/**
 * Copies every weight of `source` into `target`, layer by layer over the layers that hold weights,
 * after checking that each pair has the same kind and weight shapes. Throws
 * {@link ArchitectureMismatchError} naming the first layer that differs; nothing is copied then.
 */
export function copyWeights(target: LayersModel, source: LayersModel, from: string): { layers: number; weights: number } {
  const here = trainableLayers(target).filter((l) => l.weights.length > 0);
  const there = trainableLayers(source).filter((l) => l.weights.length > 0);
  const position = (l: Layer) => trainableLayers(target).indexOf(l);
  const depth = here.length === there.length ? '' : ` (this model has ${here.length} layers with weights, it has ${there.length})`;
  const mismatch = (reason: string) => new ArchitectureMismatchError(from, reason + depth);
  for (let i = 0; i < Math.max(here.length, there.length); i++) {
    const a = here[i];
    const b = there[i];
    if (!a) throw mismatch(`its layer ${b!.name} (${b!.getClassName()}) has no counterpart here`);
    if (!b) throw mismatch(`layer ${position(a)} ${a.name} (${a.getClassName()}) has no counterpart there`);
    const layer = `layer ${position(a)} ${a.name}`;
    if (a.getClassName() !== b.getClassName()) throw mismatch(`${layer} is a ${a.getClassName()} here, its layer ${b.name} a ${b.getClassName()}`);
    if (a.weights.length !== b.weights.length) throw mismatch(`${layer} has ${a.weights.length} weights here, ${b.weights.length} in its layer ${b.name} (use_bias differs?)`);
    a.weights.forEach((w, j) => {
      const v = b.weights[j]!;
      if (shape(w.shape) !== shape(v.shape)) throw mismatch(`${layer}: ${weightName(w)} expected ${shape(v.shape)} (the shape in ${from}), got ${shape(w.shape)}`);
    });
  }
  let weights = 0;
  here.forEach((a, i) => {
    // getWeights() hands out the source's own variables; setWeights assigns them by reference count, so the source can be disposed after.
    const values: Tensor[] = there[i]!.getWeights();
    a.setWeights(values);
    weights += values.length;
  });
  return { layers: here.length, weights };
}

/**
 * Sets `trainable = false` on the layers `freeze` names (a layer name such as `dense_1`, or a 0-based
 * position among {@link trainableLayers}); returns their names. An unknown name or position throws.
 */
export function freezeLayers(model: LayersModel, freeze: readonly (string | number)[]): string[] {
  const layers = trainableLayers(model);
  const names = layers.map((l) => l.name);
  const listing = layers.map((l, i) => `${i} ${l.name}`).join(', ');
  const frozen = freeze.map((which) => {
    const layer = typeof which === 'number' ? layers[which] : layers.find((l) => l.name === which);
    if (!layer) {
      const near = typeof which === 'string' ? didYouMean(which, names) : undefined;
      throw new DataError(`freeze names ${typeof which === 'number' ? `layer ${which}, but the model has ${layers.length} (0 to ${layers.length - 1})` : `the layer ${JSON.stringify(which)}, which the model does not have`}`, { hint: `${near ? `${near}; ` : ''}the layers are ${listing}` });
    }
    layer.trainable = false;
    return layer.name;
  });
  return [...new Set(frozen)];
}
