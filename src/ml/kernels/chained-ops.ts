import type * as core from '@tensorflow/tfjs-core';

type Core = typeof core;
type Method = (this: core.Tensor, ...args: unknown[]) => unknown;

const sameNameOps = (
  'abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchNorm batchToSpaceND ' +
  'broadcastTo cast ceil clipByValue conv1d conv2d conv2dTranspose cos cosh cumprod cumsum depthToSpace ' +
  'depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm exp expandDims expm1 floor floorDiv ' +
  'gather greater greaterEqual isFinite isInf isNaN leakyRelu less lessEqual localResponseNormalization log ' +
  'log1p logSigmoid logSoftmax logSumExp logicalAnd logicalNot logicalOr logicalXor matMul max maxPool maximum ' +
  'mean min minimum mirrorPad mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod reciprocal relu ' +
  'relu6 reshape reverse round rsqrt selu separableConv2d sigmoid sign sin sinh slice softmax softplus ' +
  'spaceToBatchND split sqrt square squaredDifference squeeze step stridedSlice sub sum tan tanh tile topk ' +
  'transpose unique unsortedSegmentSum unstack zerosLike'
).split(' ');

function special(tf: Core): Record<string, Method> {
  const toList = (self: core.Tensor, x: core.Tensor | core.Tensor[]): core.Tensor[] =>
    x instanceof tf.Tensor ? [self, x] : [self, ...x];
  return {
    as1D() { return tf.reshape(this, [this.size]); },
    as2D(...s) { return tf.reshape(this, s as number[]); },
    as3D(...s) { return tf.reshape(this, s as number[]); },
    as4D(...s) { return tf.reshape(this, s as number[]); },
    as5D(...s) { return tf.reshape(this, s as number[]); },
    asScalar() { return tf.reshape(this, []); },
    asType(dtype) { return tf.cast(this, dtype as core.DataType); },
    flatten() { return tf.reshape(this, [this.size]); },
    reshapeAs(x) { return tf.reshape(this, (x as core.Tensor).shape); },
    toBool() { return tf.cast(this, 'bool'); },
    toFloat() { return tf.cast(this, 'float32'); },
    toInt() { return tf.cast(this, 'int32'); },
    concat(x, axis) { return tf.concat(toList(this, x as core.Tensor[]), axis as number); },
    stack(x, axis) { return tf.stack(toList(this, x as core.Tensor[]), axis as number); },
    where(condition, x) { return tf.where(condition as core.Tensor, this, x as core.Tensor); },
    fft() { return tf.spectral.fft(this); },
    ifft() { return tf.spectral.ifft(this); },
    rfft() { return tf.spectral.rfft(this); },
    irfft() { return tf.spectral.irfft(this); },
    resizeBilinear(...a) { return (tf.image.resizeBilinear as (...x: unknown[]) => unknown)(this, ...a); },
    resizeNearestNeighbor(...a) { return (tf.image.resizeNearestNeighbor as (...x: unknown[]) => unknown)(this, ...a); },
  };
}

/**
 * Adds the chained tensor methods (`t.flatten()`, `t.mul(u)`…) that `@tensorflow/tfjs` registers and
 * that tfjs-layers calls, but that tfjs-core's Node bundle leaves out. Existing methods are kept.
 */
export function registerChainedOps(tf: Core): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, Method>;
  const ops = tf as unknown as Record<string, (...args: unknown[]) => unknown>;
  const methods: Record<string, Method> = special(tf);
  for (const name of sameNameOps) {
    methods[name] = function (...args) {
      return ops[name]!(this, ...args);
    };
  }
  for (const [name, method] of Object.entries(methods)) {
    if (typeof proto[name] === 'function') continue;
    proto[name] = function (this: core.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return method.apply(this, args);
    };
  }
}
