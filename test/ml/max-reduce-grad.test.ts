import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadTf } from '../../src/ml/backend.js';
import { MAX_REDUCE_GRAD, reductionBlocks } from '../../src/ml/kernels/max-reduce-grad.js';
import { lcg } from './fixtures.js';

/** Values in {-1, -0.5, 0, 0.5, 1}: many ties, which must all get the gradient. */
function tied(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => Math.floor(r() * 5) / 2 - 1);
}

describe('max reduction gradient', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const axes of [[1], [1, 2], [0], [2], [0, 2]]) {
      it(`is dy where x equals its maximum (ties included), else 0, on ${backend} over axes ${axes.join(',')}`, async () => {
        const { tf } = await loadTf(backend);
        const shape = [3, 4, 5];
        const x = tf.tensor3d(tied(60, 5), shape as [number, number, number]);
        const probe = tf.tensor(tied(60, 6)).reshape(shape);
        const [got, expected] = tf.tidy(() => {
          const loss = (t: Tensor) => tf.sum(tf.mul(tf.max(t, axes, true), tf.max(probe, axes, true)));
          const dx = tf.grad(loss)(x);
          const m = tf.max(x, axes, true);
          const want = tf.mul(tf.cast(tf.equal(x, m), 'float32'), tf.max(probe, axes, true));
          // `+ 0`: tfjs-core's product gives -0 where a negative dy meets a non-maximum; the kernel writes 0.
          return [Array.from(dx.dataSync(), (v) => v + 0), Array.from(want.dataSync(), (v) => v + 0)];
        });
        expect(got).toEqual(expected);
        const profile = await tf.profile(() => tf.tidy(() => tf.grad((t: Tensor) => tf.sum(tf.max(t, axes)))(x)));
        // One run of reduced axes takes the one-pass kernel; [0, 2] takes tfjs-core's formula.
        expect(profile.kernels.some((k) => k.name === MAX_REDUCE_GRAD)).toBe(axes.length === 1 || axes[1]! - axes[0]! === 1);
        tf.dispose([x, probe]);
      });
    }
  }

  it('sees the input as [outer, reduced, inner] blocks when the axes form one run', () => {
    expect(reductionBlocks([2, 3, 4, 5], [1, 2])).toEqual({ outer: 2, reduced: 12, inner: 5 });
    expect(reductionBlocks([2, 3, 4], [-1])).toEqual({ outer: 6, reduced: 4, inner: 1 });
    expect(reductionBlocks([2, 3, 4], [0, 2])).toBeUndefined();
  });
});
