import type { NamedAttrMap, NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend.js';
import { isFusedDenseLayer } from './kernels/fused-dense-layer.js';
import { isInputLayer } from './training-forward.js';
import { DENSE_FORWARD, DENSE_GRAD, denseActivationGrad, denseActivations, type DenseActivation, type DenseAttrs } from './kernels/fused-dense.js';
import { heapStepperOf } from './kernels/in-place-optimizers.js';
import { simdKernelsOf, wasmBackendMemory } from './kernels/simd/simd-module.js';

interface DenseInternals {
  getClassName(): string;
  built: boolean;
  trainable: boolean;
  kernel: { read(): Tensor } | null;
  bias: { read(): Tensor } | null;
  activation: { getClassName(): string };
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
}

/** One dense layer of the stack: its variables and fused-kernel attributes. */
interface StackLayer {
  kernel: Variable;
  bias: Variable | null;
  attrs: DenseAttrs;
}

/**
 * A sequential model made only of dense layers (logistic regression, an MLP) trained without the
 * gradient tape: the forward pass runs mlpipe's fused dense kernel per layer, the backward pass
 * the same kernels as that kernel's registered gradient (DENSE_GRAD for ∂loss/∂z and the bias
 * gradient, then the two matmuls), so the gradients are those the tape would compute, without
 * tfjs-layers' graph execution and the tape's bookkeeping around a few small kernels (most of
 * such a model's step). Undefined when the model is anything else: a non-dense layer, a frozen
 * layer, the stock Dense class (`fused: false`), a regularizer, an activation the fused kernel lacks, a backend without it.
 */
export function denseStack(tf: Tf, model: LayersModel, variables: readonly Variable[]): StackLayer[] | undefined {
  if (!(model instanceof tf.Sequential) || tf.getKernel(DENSE_FORWARD, tf.getBackend()) === undefined) return undefined;
  // A model built from `tf.input` lists its InputLayer first: not a computation.
  const layers = (model.layers as unknown as DenseInternals[]).filter((l) => !isInputLayer(l));
  const stack: StackLayer[] = [];
  for (const l of layers) {
    const activation = l.activation?.getClassName() as DenseActivation;
    const plain = isFusedDenseLayer(tf, l) && l.built && l.trainable && l.kernel && !l.kernelRegularizer && !l.biasRegularizer && !l.activityRegularizer;
    if (!plain || !denseActivations.includes(activation)) return undefined;
    stack.push({ kernel: l.kernel!.read() as Variable, bias: l.bias ? (l.bias.read() as Variable) : null, attrs: { activation, hasBias: l.bias !== null } });
  }
  const own = stack.flatMap((s) => (s.bias ? [s.kernel, s.bias] : [s.kernel]));
  if (stack.length === 0 || own.length !== variables.length || own.some((v, i) => v !== variables[i])) return undefined;
  return stack;
}

/**
 * The gradients of every variable of `stack` (by variable name) for the input `x` ([rows, features]),
 * where `lossGradient` takes the model's output values and returns ∂loss/∂output (same layout).
 * Tensors it returns are the caller's to dispose.
 */
export function denseStackGradients(tf: Tf, stack: readonly StackLayer[], x: Tensor, lossGradient: (pred: Float32Array) => Float32Array): NamedTensorMap {
  const engine = tf.engine();
  return tf.tidy(() => {
    const outputs: Tensor[] = [x];
    for (const s of stack) {
      const inputs: NamedTensorMap = { x: outputs[outputs.length - 1]!, kernel: s.kernel };
      if (s.bias) inputs.bias = s.bias;
      outputs.push(engine.runKernel(DENSE_FORWARD, inputs, s.attrs as unknown as NamedAttrMap) as Tensor);
    }
    const pred = outputs[stack.length]!;
    let dy = tf.tensor(lossGradient(pred.dataSync() as Float32Array), pred.shape, 'float32');
    const grads: NamedTensorMap = {};
    for (let i = stack.length - 1; i >= 0; i--) {
      const s = stack[i]!;
      const [dz, db] = engine.runKernel(DENSE_GRAD, { dy, y: outputs[i + 1]! }, s.attrs as unknown as NamedAttrMap) as Tensor[];
      grads[s.kernel.name] = tf.matMul(outputs[i]!, dz!, true, false);
      if (s.bias) grads[s.bias.name] = db!;
      if (i > 0) dy = tf.matMul(dz!, s.kernel, false, true);
    }
    return grads;
  });
}

// The step's loops, each a small function of its own: V8 optimizes (and OSR-compiles) a small hot
// function within a few batches, where one large step function takes tens of milliseconds of
// compilation on a busy machine, which a short training run pays in slow batches.

/** y = act(y + b) per row (`units` columns); `b` absent: no bias. */
function biasActivation(y: Float32Array, b: Float32Array | undefined, units: number, activation: DenseActivation): void {
  if (b) addBias(y, b, units);
  if (activation === 'relu') relu(y);
  else if (activation === 'sigmoid') sigmoid(y);
}

function addBias(y: Float32Array, b: Float32Array, units: number): void {
  const n = y.length;
  if (units === 1) {
    const b0 = b[0]!;
    for (let o = 0; o < n; o++) y[o]! += b0;
    return;
  }
  for (let o = 0; o < n; o += units) for (let c = 0; c < units; c++) y[o + c]! += b[c]!;
}

function relu(y: Float32Array): void {
  for (let o = 0; o < y.length; o++) if (!(y[o]! > 0)) y[o] = 0;
}

function sigmoid(y: Float32Array): void {
  for (let o = 0; o < y.length; o++) y[o] = 1 / (1 + Math.exp(-y[o]!));
}

/** t[cols×rows] = m[rows×cols]ᵀ. */
function transpose(m: Float32Array, rows: number, cols: number, t: Float32Array): void {
  for (let a = 0; a < rows; a++) for (let c = 0; c < cols; c++) t[c * rows + a] = m[a * cols + c]!;
}

/** dst = the rows `idx` of `src` (`row` floats each), in that order. */
export function gatherRows(src: Float32Array | Int32Array, idx: ArrayLike<number>, row: number, dst: Float32Array): void {
  for (let i = 0, d = 0; i < idx.length; i++) for (let s = idx[i]! * row, end = s + row; s < end; s++, d++) dst[d] = src[s]!;
}

interface WasmHeap {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: { _malloc(bytes: number): number; _free(ptr: number): void };
}

/**
 * A dense stack's whole training step on the wasm heap, with no tfjs op dispatched: the batch is
 * written into heap memory of its own, the forward and backward matmuls run the SIMD module's
 * gemm, bias, activation and its gradient (`denseActivationGrad`, the fused kernel's) plain loops
 * over heap views, and the optimizer's `heapStep` updates the variables' own memory in place
 * (Adam's SIMD kernel), so the tf variables always hold the weights; `sync` tells the backend they
 * changed (XNNPACK's cached packing), before anything else reads them through tfjs.
 */
export interface HeapDenseStep {
  /**
   * One step on `rows` rows: `fill` writes their inputs (row-major, [rows, features]) into the view
   * it is given; `lossGradient` as in `denseStackGradients` (its argument is a view of heap memory,
   * valid during the call). False, and nothing changed, when the optimizer cannot step now: take the tf path.
   */
  step(rows: number, fill: (x: Float32Array) => void, lossGradient: (pred: Float32Array) => Float32Array): boolean;
  sync(): void;
  dispose(): void;
}

export function heapDenseStep(tf: Tf, stack: readonly StackLayer[], optimizer: import('@tensorflow/tfjs-core').Optimizer): HeapDenseStep | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeap;
  const kernels = simdKernelsOf(backend);
  const memory = wasmBackendMemory(backend) as { buffer: ArrayBuffer } | undefined;
  const stepper = heapStepperOf(optimizer);
  if (!kernels || !memory || !stepper) return undefined;
  const L = stack.length;
  const ins = stack.map((s) => s.kernel.shape[0]!);
  const units = stack.map((s) => s.kernel.shape[1]!);
  // Floats: per layer its output y, dz, its kernel's and bias's gradient, the kernel transposed and dx (not layer 0).
  const gradFloats = stack.map((s, i) => ins[i]! * units[i]! + (s.bias ? units[i]! : 0));
  let capacity = 0;
  let base = 0;
  let layout: { x: number; y: number[]; dz: number[]; dW: number[]; db: number[]; wt: number[]; dx: number[] } | undefined;
  let heap = new Float32Array(memory.buffer);
  const view = (ptr: number, floats: number): Float32Array => {
    if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
    return heap.subarray(ptr >> 2, (ptr >> 2) + floats);
  };
  const reserve = (rows: number): void => {
    if (rows <= capacity && layout) return;
    if (base) backend.wasm._free(base);
    let floats = rows * ins[0]!;
    for (let i = 0; i < L; i++) floats += 2 * rows * units[i]! + gradFloats[i]! + (i > 0 ? ins[i]! * units[i]! + rows * ins[i]! : 0) + 8;
    base = backend.wasm._malloc(4 * floats + 64);
    let at = (base + 15) & ~15;
    const take = (n: number): number => {
      const p = at;
      at += ((4 * n + 15) & ~15);
      return p;
    };
    const l = { x: take(rows * ins[0]!), y: [] as number[], dz: [] as number[], dW: [] as number[], db: [] as number[], wt: [] as number[], dx: [] as number[] };
    for (let i = 0; i < L; i++) {
      l.y.push(take(rows * units[i]!));
      l.dz.push(take(rows * units[i]!));
      l.dW.push(take(ins[i]! * units[i]!));
      l.db.push(stack[i]!.bias ? take(units[i]!) : 0);
      l.wt.push(i > 0 ? take(ins[i]! * units[i]!) : 0);
      l.dx.push(i > 0 ? take(rows * ins[i]!) : 0);
    }
    layout = l;
    capacity = rows;
  };
  const address = (t: Tensor): number => backend.dataIdMap.get(t.dataId).memoryOffset;
  const entries = stack.flatMap((s, i) => [{ variable: s.kernel as Tensor, layer: i, bias: false }, ...(s.bias ? [{ variable: s.bias as Tensor, layer: i, bias: true }] : [])]);
  let dirty = false;
  return {
    step(rows, fill, lossGradient) {
      if (entries.some((e) => (backend as unknown as { refCount(id: object): number }).refCount(e.variable.dataId) !== 1)) return false;
      reserve(rows);
      const l = layout!;
      fill(view(l.x, rows * ins[0]!));
      let input = l.x;
      for (let i = 0; i < L; i++) {
        const s = stack[i]!;
        const u = units[i]!;
        const k = ins[i]!;
        kernels.gemm(rows, u, k, input, k, 1, address(s.kernel), u, l.y[i]!, u, 0);
        biasActivation(view(l.y[i]!, rows * u), s.bias ? view(address(s.bias), u) : undefined, u, s.attrs.activation);
        input = l.y[i]!;
      }
      const last = L - 1;
      const g = lossGradient(view(l.y[last]!, rows * units[last]!));
      let dyPtr = l.dz[last]!;
      view(dyPtr, g.length).set(g);
      for (let i = last; i >= 0; i--) {
        const s = stack[i]!;
        const u = units[i]!;
        const k = ins[i]!;
        // dz in place of dy (the loop reads dy[j] before writing dz[j]).
        denseActivationGrad(view(dyPtr, rows * u), view(l.y[i]!, rows * u), u, s.attrs.activation, view(l.dz[i]!, rows * u), s.bias ? view(l.db[i]!, u) : undefined);
        const xIn = i === 0 ? l.x : l.y[i - 1]!;
        kernels.gemm(k, u, rows, xIn, 1, k, l.dz[i]!, u, l.dW[i]!, u, 0);
        if (i > 0) {
          transpose(view(address(s.kernel), k * u), k, u, view(l.wt[i]!, k * u));
          kernels.gemm(rows, k, u, l.dz[i]!, u, 1, l.wt[i]!, k, l.dx[i]!, k, 0);
          dyPtr = l.dx[i]!;
        }
      }
      const ok = stepper.heapStep(entries.map((e) => ({ variable: e.variable, grad: e.bias ? l.db[e.layer]! : l.dW[e.layer]! })));
      if (!ok) throw new Error('heap dense step: the optimizer refused a step it accepted before');
      dirty = true;
      return true;
    },
    sync() {
      if (!dirty) return;
      for (const e of entries) stepper.written(e.variable);
      dirty = false;
    },
    dispose() {
      this.sync();
      if (base) backend.wasm._free(base);
      base = 0;
      layout = undefined;
      capacity = 0;
    },
  };
}
