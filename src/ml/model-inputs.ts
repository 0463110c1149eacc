import type { Tensor } from '@tensorflow/tfjs-core';
import type { Tf } from './backend.js';

/**
 * How rows of a dataset's `x` become model inputs: one tensor of `inputShape` (a single-input
 * model), or one per entry of `inputs`, each the columns `offset … offset + width` of the float32
 * row (token ids cast to int32).
 */
export interface InputLayout {
  inputShape: number[];
  inputDtype: 'float32' | 'int32';
  inputs?: readonly { offset: number; width: number; dtype: 'float32' | 'int32' }[];
}

/** The model input for rows `start … start + size` of `x` (row-major, `rowSize` values per row). */
export function inputTensors(tf: Tf, layout: InputLayout, x: Float32Array | Int32Array, rowSize: number, start: number, size: number): Tensor | Tensor[] {
  if (!layout.inputs) return tf.tensor(x.subarray(start * rowSize, (start + size) * rowSize), [size, ...layout.inputShape], layout.inputDtype);
  return layout.inputs.map((b) => {
    const out = b.dtype === 'int32' ? new Int32Array(size * b.width) : new Float32Array(size * b.width);
    for (let r = 0; r < size; r++) {
      const from = (start + r) * rowSize + b.offset;
      for (let c = 0; c < b.width; c++) out[r * b.width + c] = x[from + c]!;
    }
    return tf.tensor(out, [size, b.width], b.dtype);
  });
}

/** A model's output as one `[batch, units…]` tensor: several outputs (one per target) concatenated along the last axis. */
export function joinOutputs(tf: Tf, out: Tensor | Tensor[]): Tensor {
  if (!Array.isArray(out)) return out;
  return out.length === 1 ? out[0]! : tf.concat(out, 1);
}
