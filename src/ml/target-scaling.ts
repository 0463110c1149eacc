import type { DatasetMeta } from './dataset.js';

/** A regression target as the model sees it: `(y - shift) / scale`; the model's output is mapped back with `y = out · scale + shift`. */
export interface TargetScale {
  shift: number;
  scale: number;
}

/**
 * The scaling of a regression dataset's target, from the statistics preprocess recorded (`zscore`:
 * mean and std; `minmax`: min and range; `none`: identity). `centre: false` keeps zero in place
 * (scale only), for losses that are not shift-invariant, such as a percentage error.
 * Undefined for classification and for datasets written before targets were scaled.
 */
export function targetScaleOf(meta: Pick<DatasetMeta, 'task' | 'targetScaling'>, options: { centre?: boolean } = {}): TargetScale | undefined {
  const t = meta.targetScaling;
  if (meta.task !== 'regression' || !t || t.normalize === 'none') return undefined;
  const { mean, std, min, max } = t.stats;
  const scale = t.normalize === 'zscore' ? std || 1 : max - min || 1;
  if (options.centre === false) return { shift: 0, scale: t.normalize === 'zscore' ? Math.sqrt(std * std + mean * mean) || 1 : Math.max(Math.abs(min), Math.abs(max)) || 1 };
  return { shift: t.normalize === 'zscore' ? mean : min, scale };
}

/** `y` in model units; with several targets (`width` values per row), only column `column` is scaled. */
export function scaleTarget(y: Float32Array, s: TargetScale, column = 0, width = 1): Float32Array {
  return Float32Array.from(y, (v, i) => (i % width === column ? (v - s.shift) / s.scale : v));
}

/** Model outputs back in the target's units, in place. */
export function unscaleTarget(values: Float32Array, s: TargetScale): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * s.scale + s.shift;
  return values;
}
