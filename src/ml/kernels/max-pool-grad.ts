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
  // Per channel of the current window, scanned position by position so reads stay contiguous.
  const max = new Float32Array(C);
  const best = new Int32Array(C);
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
        // Reset per channel in a loop: two fill() calls per window cost more than the window for few channels.
        for (let c = 0; c < C; c++) {
          max[c] = Number.NEGATIVE_INFINITY;
          best[c] = -1;
        }
        for (let h = hStart; h < hEnd; h++) {
          for (let w = wStart; w < wEnd; w++) {
            const at = base + (h * W + w) * C;
            for (let c = 0; c < C; c++) {
              // Written without a branch: on real activations the comparison is a coin toss.
              const v = x[at + c]!;
              const m = max[c]!;
              const larger = v > m;
              max[c] = larger ? v : m;
              best[c] = larger ? at + c : best[c]!;
            }
          }
        }
        for (let c = 0; c < C; c++) if (best[c]! >= 0) dx[best[c]!]! += dy[o + c]!;
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
