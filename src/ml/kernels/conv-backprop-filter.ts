import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from '../backend.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

interface BackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  attrs: {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  backend: WasmBackendLike;
}

/** The geometry `im2col` needs, from TensorFlow.js's own convolution arithmetic. */
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

/**
 * Writes the patches of an NHWC input as rows of `col` (`[batch·outH·outW, fh·fw·inC]`, row-major):
 * row m holds, for output position m, the input values the filter sees there (zeros in the padding).
 */
export function im2col(x: Float32Array, g: ConvGeometry, col: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: fh, filterWidth: fw } = g;
  const k = fh * fw * C;
  let m = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++, m++) {
        const row = m * k;
        for (let r = 0; r < fh; r++) {
          const h = oh * g.strideHeight + r - g.padTop;
          for (let s = 0; s < fw; s++) {
            const w = ow * g.strideWidth + s - g.padLeft;
            const dst = row + (r * fw + s) * C;
            if (h < 0 || h >= H || w < 0 || w >= W) col.fill(0, dst, dst + C);
            else {
              const src = ((b * H + h) * W + w) * C;
              col.set(x.subarray(src, src + C), dst);
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
 * with the backend's XNNPACK matmul, `dW[fh·fw·inC, outC] = colᵀ · dy[batch·outH·outW, outC]`.
 */
export function convBackpropFilterKernels(tf: Tf): Record<string, KernelConfig[]> {
  const kernelFunc = (args: BackpropFilterArgs): TensorInfo => {
    const { x, dy } = args.inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
    if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: mlpipe\'s wasm kernel supports channels-last (NHWC) data only');
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const g: ConvGeometry = {
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
    const m = g.batch * g.outHeight * g.outWidth;
    const k = g.filterHeight * g.filterWidth * g.inChannels;
    const col = args.backend.makeOutput([1, m, k], 'float32');
    try {
      im2col(args.backend.typedArrayFromHeap(x), g, args.backend.typedArrayFromHeap(col));
      const matMul = tf.getKernel('BatchMatMul', 'wasm')!;
      const out = matMul.kernelFunc({
        inputs: { a: col, b: { dataId: dy.dataId, shape: [1, m, info.outChannels], dtype: dy.dtype } },
        attrs: { transposeA: true, transposeB: false },
        backend: args.backend,
      } as never) as TensorInfo;
      return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
    } finally {
      args.backend.disposeData(col.dataId);
    }
  };
  return { wasm: [{ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
