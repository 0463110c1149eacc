import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { convGeometry, type ConvGeometry, type ConvGradientAttrs, type WasmBackendLike } from './conv-backprop-filter.js';

interface BackpropInputArgs {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  attrs: ConvGradientAttrs & { inputShape: [number, number, number, number] };
  backend: WasmBackendLike;
}

/** dx += col2im(dcol): each row j of `dcol` (`[batch·outH·outW, fh·fw·inC]`) is added back onto the input patch it came from. */
export function col2imAdd(dcol: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: fh, filterWidth: fw } = g;
  const k = fh * fw * C;
  dx.fill(0);
  let j = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++, j++) {
        const row = j * k;
        for (let r = 0; r < fh; r++) {
          const h = oh * g.strideHeight + r - g.padTop;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < fw; s++) {
            const w = ow * g.strideWidth + s - g.padLeft;
            if (w < 0 || w >= W) continue;
            const dst = ((b * H + h) * W + w) * C;
            const src = row + (r * fw + s) * C;
            for (let c = 0; c < C; c++) dx[dst + c]! += dcol[src + c]!;
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropInput (the input gradient of every conv1d and conv2d layer that is not the first
 * trainable one, e.g. a conv1d after an embedding) for wasm, whose stock kernel is a scalar loop:
 * `dcol[batch·outH·outW, fh·fw·inC] = dy · Wᵀ` with the backend's XNNPACK matmul (W is
 * `[fh·fw·inC, outC]` as stored; its transpose is small and written once), then col2im adds each
 * row back onto its patch.
 */
export function convBackpropInputKernels(tf: Tf): Record<string, KernelConfig[]> {
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const kernelFunc = (args: BackpropInputArgs): TensorInfo => {
    const { dy, filter } = args.inputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
    if (dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      if (stock) return stock.kernelFunc(args as never) as TensorInfo;
      throw new Error('Conv2DBackpropInput: mlpipe\'s wasm kernel supports float32 channels-last (NHWC) data only');
    }
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const g = convGeometry(info);
    const m = g.batch * g.outHeight * g.outWidth;
    const k = g.filterHeight * g.filterWidth * g.inChannels;
    const f = info.outChannels;
    const wT = args.backend.makeOutput([1, f, k], 'float32');
    let dcol: TensorInfo | undefined;
    try {
      const w = args.backend.typedArrayFromHeap(filter);
      const t = args.backend.typedArrayFromHeap(wT);
      for (let i = 0; i < k; i++) for (let q = 0; q < f; q++) t[q * k + i] = w[i * f + q]!;
      const matMul = tf.getKernel('BatchMatMul', 'wasm')!;
      dcol = matMul.kernelFunc({
        inputs: { a: { dataId: dy.dataId, shape: [1, m, f], dtype: 'float32' }, b: wT },
        attrs: { transposeA: false, transposeB: false },
        backend: args.backend,
      } as never) as TensorInfo;
      const out = args.backend.makeOutput([...inputShape], 'float32');
      col2imAdd(args.backend.typedArrayFromHeap(dcol), g, args.backend.typedArrayFromHeap(out));
      return out;
    } finally {
      args.backend.disposeData(wT.dataId);
      if (dcol) args.backend.disposeData(dcol.dataId);
    }
  };
  return { wasm: [{ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
