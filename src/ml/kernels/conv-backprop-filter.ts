import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';

/** What mlpipe's conv kernels use of the wasm backend. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

/** The attributes both convolution gradients take. */
export interface ConvGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface BackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  attrs: ConvGradientAttrs & { filterShape: [number, number, number, number] };
  backend: WasmBackendLike;
}

/** The geometry the gradient needs, from TensorFlow.js's own convolution arithmetic. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** The geometry of a convolution from TensorFlow.js's `computeConv2DInfo`. */
export function convGeometry(info: {
  batchSize: number; inHeight: number; inWidth: number; inChannels: number; outHeight: number; outWidth: number;
  filterHeight: number; filterWidth: number; strideHeight: number; strideWidth: number; padInfo: { top: number; left: number };
}): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * The largest im2col matrix (floats) built for the gradient; a bigger one (a large image batch)
 * would cost more memory than the product saves, and the gradient is accumulated directly instead.
 * Below it im2col + XNNPACK wins even for tiny filters: 1.6 ms against 8.2 ms for a first 3×3×1×8
 * conv2d on a 64×28×28 batch (min of 30 here), where direct accumulation was chosen before.
 */
const IM2COL_MAX_FLOATS = 1 << 24;

/** `colT` (`[fh·fw·inC, batch·outH·outW]`): the transpose of `im2col`'s matrix, written directly. */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, colT: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: fh, filterWidth: fw, outWidth: OW, strideWidth: sw } = g;
  const m = g.batch * g.outHeight * OW;
  for (let r = 0; r < fh; r++) {
    for (let s = 0; s < fw; s++) {
      // Output columns whose input column w = ow·sw + s − padLeft lies inside the image: [owStart, owEnd).
      const owStart = Math.min(OW, Math.max(0, Math.ceil((g.padLeft - s) / sw)));
      const owEnd = Math.max(owStart, Math.min(OW, Math.floor((W - 1 + g.padLeft - s) / sw) + 1));
      for (let c = 0; c < C; c++) {
        const row = ((r * fw + s) * C + c) * m;
        let j = row;
        for (let b = 0; b < g.batch; b++) {
          for (let oh = 0; oh < g.outHeight; oh++, j += OW) {
            const h = oh * g.strideHeight + r - g.padTop;
            if (h < 0 || h >= H) {
              colT.fill(0, j, j + OW);
              continue;
            }
            for (let ow = 0; ow < owStart; ow++) colT[j + ow] = 0;
            for (let ow = owEnd; ow < OW; ow++) colT[j + ow] = 0;
            const step = sw * C;
            for (let ow = owStart, p = ((b * H + h) * W + owStart * sw + s - g.padLeft) * C + c; ow < owEnd; ow++, p += step) colT[j + ow] = x[p]!;
          }
        }
      }
    }
  }
}

/** dW[r, s, c, f] = Σ over batch and output positions of x[patch] · dy, without an im2col matrix (for batches whose matrix would be too big). */
export function accumulateFilterGradient(x: Float32Array, dy: Float32Array, g: ConvGeometry, f: number, out: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: fh, filterWidth: fw } = g;
  out.fill(0);
  let j = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++, j++) {
        const d = j * f;
        for (let r = 0; r < fh; r++) {
          const h = oh * g.strideHeight + r - g.padTop;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < fw; s++) {
            const w = ow * g.strideWidth + s - g.padLeft;
            if (w < 0 || w >= W) continue;
            const src = ((b * H + h) * W + w) * C;
            const dst = (r * fw + s) * C * f;
            for (let c = 0; c < C; c++) {
              const v = x[src + c]!;
              if (v === 0) continue;
              const o = dst + c * f;
              for (let q = 0; q < f; q++) out[o + q]! += v * dy[d + q]!;
            }
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropFilter (the gradient of every conv1d and conv2d kernel) for wasm, which has none:
 * the input's patches are laid out as a matrix once (im2col) and multiplied by the output gradient
 * with the backend's XNNPACK matmul, `dW[fh·fw·inC, outC] = colᵀ · dy[batch·outH·outW, outC]`
 * (colᵀ written directly, so no transposed operand); a batch whose matrix would be too big accumulates directly.
 */
export function convBackpropFilterKernels(tf: Tf): Record<string, KernelConfig[]> {
  const kernelFunc = (args: BackpropFilterArgs): TensorInfo => {
    const { x, dy } = args.inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
    if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: mlpipe\'s wasm kernel supports channels-last (NHWC) data only');
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const g = convGeometry(info);
    const m = g.batch * g.outHeight * g.outWidth;
    const k = g.filterHeight * g.filterWidth * g.inChannels;
    const f = info.outChannels;
    const xs = args.backend.typedArrayFromHeap(x);
    const dys = args.backend.typedArrayFromHeap(dy);
    if (k * m > IM2COL_MAX_FLOATS) {
      const out = args.backend.makeOutput([...filterShape], 'float32');
      accumulateFilterGradient(xs, dys, g, f, args.backend.typedArrayFromHeap(out));
      return out;
    }
    const col = args.backend.makeOutput([1, k, m], 'float32');
    try {
      im2colTransposed(xs, g, args.backend.typedArrayFromHeap(col));
      const matMul = tf.getKernel('BatchMatMul', 'wasm')!;
      const out = matMul.kernelFunc({
        inputs: { a: col, b: { dataId: dy.dataId, shape: [1, m, f], dtype: dy.dtype } },
        attrs: { transposeA: false, transposeB: false },
        backend: args.backend,
      } as never) as TensorInfo;
      return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
    } finally {
      args.backend.disposeData(col.dataId);
    }
  };
  return { wasm: [{ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
