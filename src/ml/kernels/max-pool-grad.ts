import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import type { WasmBackendLike } from './conv-backprop-filter.js';

interface MaxPoolGradArgs {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  attrs: { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  backend: WasmBackendLike;
}

/** The pooling geometry the gradient needs, from TensorFlow.js's `computePool2DInfo`. */
export interface PoolGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
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
 * dx of max pooling: each output window's gradient goes to the first largest input of the window
 * in row-major order (as the cpu backend and TensorFlow pick it), added where windows overlap.
 * One pass over the windows: O(outputs · window), not O(inputs · outputs-per-input · window).
 */
export function maxPoolBackprop(x: Float32Array, dy: Float32Array, g: PoolGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, channels: C } = g;
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    const base = b * H * W * C;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const h0 = oh * g.strideHeight - g.padTop;
      const hStart = Math.max(0, h0);
      const hEnd = Math.min(H, h0 + g.filterHeight);
      for (let ow = 0; ow < g.outWidth; ow++, o += C) {
        const w0 = ow * g.strideWidth - g.padLeft;
        const wStart = Math.max(0, w0);
        const wEnd = Math.min(W, w0 + g.filterWidth);
        if (hEnd - hStart === 2 && wEnd - wStart === 2) {
          // A whole 2×2 window (max_pooling's default) unrolled: the same comparisons in the same order.
          const a0 = base + (hStart * W + wStart) * C;
          const a2 = a0 + W * C;
          for (let c = 0; c < C; c++) {
            let max = Number.NEGATIVE_INFINITY;
            let best = -1;
            const p0 = a0 + c;
            const p1 = p0 + C;
            const p2 = a2 + c;
            const p3 = p2 + C;
            const v0 = x[p0]!;
            if (v0 > max) (max = v0), (best = p0);
            const v1 = x[p1]!;
            const l1 = v1 > max;
            max = l1 ? v1 : max;
            best = l1 ? p1 : best;
            const v2 = x[p2]!;
            const l2 = v2 > max;
            max = l2 ? v2 : max;
            best = l2 ? p2 : best;
            const l3 = x[p3]! > max;
            best = l3 ? p3 : best;
            if (best >= 0) dx[best]! += dy[o + c]!;
          }
          continue;
        }
        // A channel at a time, its running maximum and position in locals (the window's rows are a
        // few contiguous floats per channel, so the strided reads stay in cache).
        for (let c = 0; c < C; c++) {
          let max = Number.NEGATIVE_INFINITY;
          let best = -1;
          for (let h = hStart; h < hEnd; h++) {
            for (let w = wStart, at = base + (h * W + wStart) * C + c; w < wEnd; w++, at += C) {
              // Written without a branch: on real activations the comparison is a coin toss.
              const v = x[at]!;
              const larger = v > max;
              max = larger ? v : max;
              best = larger ? at : best;
            }
          }
          if (best >= 0) dx[best]! += dy[o + c]!;
        }
      }
    }
  }
}

/**
 * MaxPoolGrad (the gradient of max_pooling1d/2d) for wasm, whose stock kernel searches, for every
 * input position, every window that holds it: 7 ms for a 64×26×26×8 batch here, against well
 * under 1 ms for one pass over the windows.
 */
export function maxPoolGradKernels(tf: Tf): Record<string, KernelConfig[]> {
  const stock = tf.getKernel('MaxPoolGrad', 'wasm');
  const kernelFunc = (args: MaxPoolGradArgs): TensorInfo => {
    const { dy, input } = args.inputs;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
      if (stock) return stock.kernelFunc(args as never) as TensorInfo;
      throw new Error('MaxPoolGrad: mlpipe\'s wasm kernel supports float32 data only');
    }
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const g: PoolGeometry = {
      batch: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      channels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      filterHeight: info.effectiveFilterHeight,
      filterWidth: info.effectiveFilterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    };
    const out = args.backend.makeOutput([...input.shape], 'float32');
    maxPoolBackprop(args.backend.typedArrayFromHeap(input), args.backend.typedArrayFromHeap(dy), g, args.backend.typedArrayFromHeap(out));
    return out;
  };
  return { wasm: [{ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc }] };
}
