import type { NamedTensorMap, Optimizer, Tensor } from '@tensorflow/tfjs-core';

type NamedTensor = { name: string; tensor: Tensor };
import type { Tf } from './tf.js';
import { simdKernelsOf, type SimdKernels } from './simd/simd-module.js';

/**
 * The update rules, with TensorFlow.js's formulas and defaults (epsilon 1e-7, Adam betas 0.9/0.999,
 * RMSProp decay 0.9, Adagrad accumulator 0.1); nadam is Dozat's Nesterov Adam, adamw Adam with
 * decoupled weight decay (Loshchilov & Hutter), as Keras and PyTorch compute them.
 */
export type UpdateRule = 'sgd' | 'momentum' | 'adam' | 'rmsprop' | 'adagrad' | 'nadam' | 'adamw';

export interface InPlaceSettings {
  rule: UpdateRule;
  learningRate: number;
  /** momentum and rmsprop. */
  momentum?: number;
  /** adamw. */
  weightDecay?: number;
  /** Each gradient is rescaled to at most this L2 norm. */
  clipnorm?: number;
  /** Each gradient element is clipped to [-clipvalue, clipvalue]. */
  clipvalue?: number;
}

/** Zero-copy access to float32 tensor storage on the JS backends. */
interface Storage {
  values(t: Tensor): Float32Array;
  refCount(t: Tensor): number;
  /** Called after writing `t` in place: drops anything the backend cached from its old contents. */
  written(t: Tensor): void;
}

interface WasmInternals {
  typedArrayFromHeap(t: Tensor): Float32Array;
  refCount(dataId: object): number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  wasm: {
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
    HEAPF32: Float32Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
}

/**
 * Adam and AdamW on the wasm backend: the SIMD module's update over the heap, its moments in heap
 * memory of their own (2·size floats at `ptr`, m then v) — one pass, four lanes at a time.
 */
interface HeapAdam {
  kernels: SimdKernels;
  address(t: Tensor): number;
  /** Zeroed heap memory for `floats` floats; its byte address. */
  alloc(floats: number): number;
  free(ptr: number): void;
}

function heapAdamOf(tf: Tf, settings: InPlaceSettings): HeapAdam | undefined {
  if (tf.getBackend() !== 'wasm' || (settings.rule !== 'adam' && settings.rule !== 'adamw')) return undefined;
  if (settings.clipnorm !== undefined || settings.clipvalue !== undefined) return undefined;
  const backend = tf.backend() as unknown as WasmInternals;
  const kernels = simdKernelsOf(backend);
  if (!kernels) return undefined;
  return {
    kernels,
    address: (t) => backend.dataIdMap.get(t.dataId).memoryOffset,
    alloc(floats) {
      const ptr = backend.wasm._malloc(4 * floats);
      backend.wasm.HEAPF32.fill(0, ptr >> 2, (ptr >> 2) + floats);
      return ptr;
    },
    free: (ptr) => backend.wasm._free(ptr),
  };
}

interface CpuInternals {
  data: { get(dataId: object): { values: Float32Array; refCount: number } };
}

function storageOf(tf: Tf): Storage | undefined {
  const name = tf.getBackend();
  if (name === 'wasm') {
    const backend = tf.backend() as unknown as WasmInternals;
    return {
      values: (t) => backend.typedArrayFromHeap(t),
      refCount: (t) => backend.refCount(t.dataId),
      // XNNPACK operators cache packed weights by tensor id: give the memory a new id so a matmul
      // with these weights repacks them.
      written(t) {
        const data = backend.dataIdMap.get(t.dataId);
        const id = backend.dataIdNextNumber++;
        backend.wasm.tfjs.registerTensor(id, t.size, data.memoryOffset);
        backend.wasm.tfjs.disposeData(data.id);
        data.id = id;
      },
    };
  }
  if (name === 'cpu') {
    const backend = tf.backend() as unknown as CpuInternals;
    return { values: (t) => backend.data.get(t.dataId).values, refCount: (t) => backend.data.get(t.dataId).refCount, written() {} };
  }
  return undefined;
}

/** Any other backend (tfjs-node): values are read out and written back with `assign`. */
const copyingStorage: Storage = { values: (t) => t.dataSync() as Float32Array, refCount: () => Number.POSITIVE_INFINITY, written() {} };

/** Whether the active backend keeps float32 data in JS-visible memory, so `createInPlaceOptimizer` updates without copies. */
export function supportsInPlaceUpdates(tf: Tf): boolean {
  return storageOf(tf) !== undefined;
}

/** `g` clipped by value, then rescaled to at most `clipnorm`; `g` itself when no clipping is asked (it is never written). */
export function clipGradient(g: Float32Array, clipvalue?: number, clipnorm?: number): Float32Array {
  if (clipvalue === undefined && clipnorm === undefined) return g;
  const out = Float32Array.from(g);
  if (clipvalue !== undefined) for (let i = 0; i < out.length; i++) out[i] = Math.min(clipvalue, Math.max(-clipvalue, out[i]!));
  if (clipnorm !== undefined) {
    let sq = 0;
    for (let i = 0; i < out.length; i++) sq += out[i]! * out[i]!;
    const norm = Math.sqrt(sq);
    if (norm > clipnorm) for (let i = 0; i < out.length; i++) out[i]! *= clipnorm / norm;
  }
  return out;
}

interface Slots {
  a: Float32Array;
  b?: Float32Array;
}

/** What `createInPlaceOptimizer`'s optimizers offer a caller that keeps gradients in wasm heap memory. */
export interface HeapStepper {
  readonly heapSteps: boolean;
  heapStep(entries: readonly { variable: Tensor; grad: number }[]): boolean;
  written(variable: Tensor): void;
}

/** `optimizer` as a HeapStepper, when it is one of mlpipe's in-place optimizers that can step on heap gradients. */
export function heapStepperOf(optimizer: Optimizer): HeapStepper | undefined {
  const o = optimizer as unknown as Partial<HeapStepper>;
  return typeof o.heapStep === 'function' && o.heapSteps === true ? (o as HeapStepper) : undefined;
}

/**
 * An optimizer that applies each update in one pass over the variable's memory, instead of the
 * ten or so tensor ops (each a kernel launch) per variable of the stock optimizers. Results match
 * the stock optimizers up to float rounding. Only for the wasm and cpu backends.
 */
export function createInPlaceOptimizer(tf: Tf, settings: InPlaceSettings): Optimizer & { learningRate: number } {
  const storage = storageOf(tf) ?? copyingStorage;
  const heapAdam = heapAdamOf(tf, settings);
  const eps = 1e-7;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const rho = 0.9;
  const momentum = settings.momentum ?? 0;

  class InPlaceOptimizer extends tf.Optimizer {
    static className = `MlpipeInPlace_${settings.rule}`;
    learningRate = settings.learningRate;
    private readonly slots = new Map<string, Slots>();
    /** heapAdam's moments by variable name. */
    private readonly heapSlots = new Map<string, number>();
    private accBeta1 = 1;
    private accBeta2 = 1;

    applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
      const list = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
      this.accBeta1 *= beta1;
      this.accBeta2 *= beta2;
      for (const { name, tensor: gradient } of list) {
        if (gradient == null) continue;
        const variable = tf.engine().registeredVariables[name]!;
        if (heapAdam) {
          this.heapUpdate(heapAdam, name, variable, gradient);
          continue;
        }
        let slots = this.slots.get(name);
        if (!slots) {
          const n = variable.size;
          slots = { a: new Float32Array(n).fill(settings.rule === 'adagrad' ? 0.1 : 0), b: ['adam', 'adamw', 'nadam', 'rmsprop'].includes(settings.rule) ? new Float32Array(n) : undefined };
          this.slots.set(name, slots);
        }
        const inPlace = storage!.refCount(variable) === 1;
        const w = inPlace ? storage!.values(variable) : Float32Array.from(storage!.values(variable));
        this.update(w, clipGradient(storage!.values(gradient), settings.clipvalue, settings.clipnorm), slots);
        if (inPlace) storage!.written(variable);
        else {
          const next = tf.tensor(w, variable.shape, 'float32');
          variable.assign(next);
          next.dispose();
        }
      }
      this.incrementIterations();
    }

    private heapUpdate(heap: HeapAdam, name: string, variable: Tensor, gradient: Tensor): void {
      const n = variable.size;
      let ptr = this.heapSlots.get(name);
      if (ptr === undefined) {
        ptr = heap.alloc(2 * n);
        this.heapSlots.set(name, ptr);
      }
      const inPlace = storage!.refCount(variable) === 1;
      // Shared storage: update a copy (new heap memory) and assign it.
      const target = inPlace ? variable : tf.tensor(Float32Array.from(storage!.values(variable)), variable.shape, 'float32');
      const lr = this.learningRate;
      if (settings.rule === 'adamw') {
        const w = storage!.values(target);
        const shrink = 1 - lr * (settings.weightDecay ?? 0);
        for (let i = 0; i < n; i++) w[i]! *= shrink;
      }
      heap.kernels.adam(heap.address(target), heap.address(gradient), ptr, ptr + 4 * n, n, beta1, beta2, lr / (1 - this.accBeta1), 1 / (1 - this.accBeta2), eps);
      if (inPlace) storage!.written(variable);
      else {
        (variable as unknown as { assign(t: Tensor): void }).assign(target);
        target.dispose();
      }
    }

    /**
     * Adam/AdamW on the wasm heap only: one step of every variable from gradients already in heap
     * memory (byte addresses, in `entries`' order), as `applyGradients` would do, but without
     * tensors and without telling the backend the variables changed (call `written` before tfjs
     * reads them through a matmul). False, and nothing done, when it does not apply (another rule,
     * clipping, a variable whose storage is shared).
     */
    heapStep(entries: readonly { variable: Tensor; grad: number }[]): boolean {
      if (!heapAdam || entries.some((e) => storage!.refCount(e.variable) !== 1)) return false;
      this.accBeta1 *= beta1;
      this.accBeta2 *= beta2;
      const lr = this.learningRate;
      for (const { variable, grad } of entries) {
        const n = variable.size;
        const name = (variable as unknown as { name: string }).name;
        let ptr = this.heapSlots.get(name);
        if (ptr === undefined) {
          ptr = heapAdam.alloc(2 * n);
          this.heapSlots.set(name, ptr);
        }
        if (settings.rule === 'adamw') {
          const w = storage!.values(variable);
          const shrink = 1 - lr * (settings.weightDecay ?? 0);
          for (let i = 0; i < n; i++) w[i]! *= shrink;
        }
        heapAdam.kernels.adam(heapAdam.address(variable), grad, ptr, ptr + 4 * n, n, beta1, beta2, lr / (1 - this.accBeta1), 1 / (1 - this.accBeta2), eps);
      }
      this.incrementIterations();
      return true;
    }

    /** Whether `heapStep` can run at all (wasm, Adam or AdamW, no clipping, SIMD kernels). */
    get heapSteps(): boolean {
      return heapAdam !== undefined;
    }

    /** Tells the backend that `variable`'s memory was written in place (see `heapStep`). */
    written(variable: Tensor): void {
      storage!.written(variable);
    }

    override dispose(): void {
      for (const ptr of this.heapSlots.values()) heapAdam!.free(ptr);
      this.heapSlots.clear();
      super.dispose();
    }

    private update(w: Float32Array, g: Float32Array, s: Slots): void {
      const lr = this.learningRate;
      const n = w.length;
      switch (settings.rule) {
        case 'sgd':
          for (let i = 0; i < n; i++) w[i] -= lr * g[i]!;
          return;
        case 'momentum': {
          const acc = s.a;
          for (let i = 0; i < n; i++) {
            acc[i] = momentum * acc[i]! + g[i]!;
            w[i] -= lr * acc[i]!;
          }
          return;
        }
        case 'adamw':
        case 'adam': {
          if (settings.rule === 'adamw') {
            const shrink = 1 - lr * (settings.weightDecay ?? 0);
            for (let i = 0; i < n; i++) w[i]! *= shrink;
          }
          const m = s.a;
          const v = s.b!;
          const step = lr / (1 - this.accBeta1);
          const c2 = 1 / (1 - this.accBeta2);
          for (let i = 0; i < n; i++) {
            const gi = g[i]!;
            const mi = beta1 * m[i]! + (1 - beta1) * gi;
            const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            w[i] -= (step * mi) / (Math.sqrt(vi * c2) + eps);
          }
          return;
        }
        case 'nadam': {
          const m = s.a;
          const v = s.b!;
          const c1 = 1 / (1 - this.accBeta1);
          const c1next = 1 / (1 - this.accBeta1 * beta1);
          const c2 = 1 / (1 - this.accBeta2);
          for (let i = 0; i < n; i++) {
            const gi = g[i]!;
            const mi = beta1 * m[i]! + (1 - beta1) * gi;
            const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            const mHat = beta1 * mi * c1next + (1 - beta1) * gi * c1;
            w[i] -= (lr * mHat) / (Math.sqrt(vi * c2) + eps);
          }
          return;
        }
        case 'rmsprop': {
          const ms = s.a;
          const mom = s.b!;
          for (let i = 0; i < n; i++) {
            const gi = g[i]!;
            ms[i] = rho * ms[i]! + (1 - rho) * gi * gi;
            mom[i] = momentum * mom[i]! + (lr * gi) / Math.sqrt(ms[i]! + eps);
            w[i] -= mom[i]!;
          }
          return;
        }
        case 'adagrad': {
          const acc = s.a;
          for (let i = 0; i < n; i++) {
            const gi = g[i]!;
            acc[i] += gi * gi;
            w[i] -= (lr * gi) / Math.sqrt(acc[i]! + eps);
          }
          return;
        }
      }
    }

    getConfig() {
      return { learningRate: this.learningRate, rule: settings.rule, momentum };
    }
  }
  return new InPlaceOptimizer() as unknown as Optimizer & { learningRate: number };
}
