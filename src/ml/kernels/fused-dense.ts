import type { KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import type { CpuDataBackend, KernelArgs, WasmHeapBackend } from './backend-types.js';

/**
 * A dense layer `y = act(x·W + b)` as one kernel forward (the backend's fused matmul) and, for the
 * gradient, one kernel that turns ∂loss/∂y into ∂loss/∂z (z = x·W + b) and the bias gradient Σ_rows dz
 * in one pass. Registered with its own gradient, so the tape asks only for the gradients it needs:
 * the first layer's ∂loss/∂x (of the data) is never computed, which tfjs-core's fused matmul
 * (a custom gradient that returns every input's) always does. Activations: linear, relu, sigmoid,
 * with the formulas of TensorFlow.js's own gradients (relu: dy·step(y), sigmoid: dy·y·(1 − y)).
 */
export const DENSE_FORWARD = 'MlpipeDense';
/** Also the activation gradient of mlpipe's fused convolution: ∂loss/∂y of any rank, channels last. */
export const DENSE_GRAD = 'MlpipeDenseGrad';

export const denseActivations = ['linear', 'relu', 'sigmoid'] as const;
export type DenseActivation = (typeof denseActivations)[number];

/** dz = dy · act′ (written from y, the activated output) and db[c] = Σ_rows dz[·, c] (when `db` is given). */
export function denseActivationGrad(dy: Float32Array, y: Float32Array, units: number, activation: DenseActivation, dz: Float32Array, db?: Float32Array): void {
  const n = dy.length;
  if (activation === 'relu') {
    // dz = y > 0 ? dy : +0, on the bits: an AND with all ones or zero, no branch (the comparison is
    // a coin toss on real activations; three times faster on a conv layer's output here).
    const dyBits = new Int32Array(dy.buffer, dy.byteOffset, n);
    const dzBits = new Int32Array(dz.buffer, dz.byteOffset, n);
    for (let i = 0; i < n; i++) dzBits[i] = dyBits[i]! & -(y[i]! > 0);
  }
  else if (activation === 'sigmoid') for (let i = 0; i < n; i++) dz[i] = dy[i]! * (y[i]! * (1 - y[i]!));
  else dz.set(dy);
  if (!db) return;
  // A column at a time into a local, in row order, summed in float64 (a third faster than one pass
  // with a running column here; a conv layer has few channels, so a loop per row would be mostly overhead).
  for (let c = 0; c < units; c++) {
    let sum = 0;
    for (let i = c; i < n; i += units) sum += dz[i]!;
    db[c] = sum;
  }
}

export interface DenseAttrs {
  activation: DenseActivation;
  hasBias: boolean;
}

type Args<B> = KernelArgs<Record<string, TensorInfo>, DenseAttrs, B>;

/** The forward and gradient kernels for wasm and cpu (whatever of them is registered). */
export function fusedDenseKernels(tf: Tf): Record<string, KernelConfig[]> {
  const out: Record<string, KernelConfig[]> = {};
  const forwardOn = (backend: string): KernelFunc | undefined => {
    const fused = tf.getKernel('_FusedMatMul', backend);
    if (!fused) return undefined;
    return (({ inputs, attrs, backend: b }: Args<unknown>) => {
      const matMul = tf.getKernel('_FusedMatMul', backend)!;
      const { x, kernel, bias } = inputs;
      // The fused matmul kernels take a rank-3 batch; a dense layer's input here is [rows, features].
      const a = { ...x!, shape: [1, ...x!.shape] };
      const w = { ...kernel!, shape: [1, ...kernel!.shape] };
      const y = matMul.kernelFunc({
        inputs: bias ? { a, b: w, bias } : { a, b: w },
        attrs: { transposeA: false, transposeB: false, activation: attrs.activation },
        backend: b,
      } as never) as TensorInfo;
      return { ...y, shape: [x!.shape[0]!, kernel!.shape[1]!] };
    }) as unknown as KernelFunc;
  };
  const wasmForward = forwardOn('wasm');
  if (wasmForward) {
    const grad = ({ inputs, attrs, backend }: Args<WasmHeapBackend>): TensorInfo[] => {
      const { dy, y } = inputs;
      const units = y!.shape[y!.shape.length - 1]!;
      const dz = backend.makeOutput([...y!.shape], 'float32');
      const db = attrs.hasBias ? backend.makeOutput([units], 'float32') : undefined;
      denseActivationGrad(backend.typedArrayFromHeap(dy!), backend.typedArrayFromHeap(y!), units, attrs.activation, backend.typedArrayFromHeap(dz), db && backend.typedArrayFromHeap(db));
      return db ? [dz, db] : [dz];
    };
    out.wasm = [
      { kernelName: DENSE_FORWARD, backendName: 'wasm', kernelFunc: wasmForward },
      { kernelName: DENSE_GRAD, backendName: 'wasm', kernelFunc: grad as unknown as KernelFunc },
    ];
  }
  const cpuForward = forwardOn('cpu');
  if (cpuForward) {
    const grad = ({ inputs, attrs, backend }: Args<CpuDataBackend>): TensorInfo[] => {
      const { dy, y } = inputs;
      const units = y!.shape[y!.shape.length - 1]!;
      const dz = new Float32Array(y!.shape.reduce((a, b) => a * b, 1));
      const db = attrs.hasBias ? new Float32Array(units) : undefined;
      denseActivationGrad(backend.data.get(dy!.dataId).values, backend.data.get(y!.dataId).values, units, attrs.activation, dz, db);
      const dzInfo = backend.makeTensorInfo([...y!.shape], 'float32', dz);
      return db ? [dzInfo, backend.makeTensorInfo([units], 'float32', db)] : [dzInfo];
    };
    out.cpu = [
      { kernelName: DENSE_FORWARD, backendName: 'cpu', kernelFunc: cpuForward },
      { kernelName: DENSE_GRAD, backendName: 'cpu', kernelFunc: grad as unknown as KernelFunc },
    ];
  }
  return out;
}

const registered = new WeakSet<Tf>();

/** Registers the gradient of DENSE_FORWARD (once per TensorFlow.js instance). */
export function registerFusedDenseGradient(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  tf.registerGradient({
    kernelName: DENSE_FORWARD,
    inputsToSave: ['x', 'kernel'],
    outputsToSave: [true],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
      const [x, kernel, y] = saved as [Tensor, Tensor, Tensor];
      const { hasBias } = attrs as unknown as DenseAttrs;
      // Made in the tape's backward scope, which disposes them once every gradient is taken.
      const [dz, db] = tf.engine().runKernel(DENSE_GRAD, { dy: dy as Tensor, y }, attrs as unknown as NamedAttrMap) as Tensor[];
      return {
        x: () => tf.matMul(dz!, kernel, false, true),
        kernel: () => tf.matMul(x, dz!, true, false),
        ...(hasBias ? { bias: () => db! } : {}),
      };
    },
  });
}

/** act(x·W + b) of a [rows, features] input as one differentiable kernel (needs DENSE_FORWARD on the active backend). */
export function fusedDense(tf: Tf, x: Tensor, kernel: Tensor, bias: Tensor | null, activation: DenseActivation): Tensor {
  registerFusedDenseGradient(tf);
  const attrs: DenseAttrs = { activation, hasBias: bias !== null };
  return tf.engine().runKernel(DENSE_FORWARD, bias ? { x, kernel, bias } : { x, kernel }, attrs as unknown as NamedAttrMap) as Tensor;
}
