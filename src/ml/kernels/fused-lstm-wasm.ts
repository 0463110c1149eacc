import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './backend-types.js';
import { transposeLastTwo } from './matmul.js';

/**
 * The fused LSTM kernels on the wasm backend, working in its heap: every step's recurrent product
 * is one call of the backend's BatchMatMul (XNNPACK) and its activations two calls of its vectorized
 * Sigmoid (tanh(x) as 2·sigmoid(2x) − 1; its Tanh kernel is scalar), all into step buffers allocated
 * once per sequence, with the gate math in JS loops over the heap. Nothing is allocated per step.
 */

/** The parts of the Emscripten module and of the wasm backend these kernels call. */
interface WasmModule {
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _BatchMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, transposeA: number, transposeB: number, outId: number): void;
  _Sigmoid(xId: number, outId: number): void;
}

export interface WasmLstmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

type Args = KernelArgs<Record<string, TensorInfo>, { sequences?: boolean }, WasmLstmBackend>;

/** True when the backend exposes what these kernels call (tfjs-backend-wasm's Emscripten module). */
export function hasWasmLstmEntryPoints(backend: unknown): boolean {
  const wasm = (backend as Partial<WasmLstmBackend>).wasm;
  return typeof wasm?._BatchMatMul === 'function' && typeof wasm._Sigmoid === 'function' && typeof wasm._malloc === 'function';
}

/** Heap tensors of one kernel call: ids, float offsets into HEAPF32, and a scratch shape buffer. */
class Heap {
  private readonly temps: TensorInfo[] = [];
  private readonly shapes: number;

  constructor(private readonly backend: WasmLstmBackend, shapes: number[]) {
    this.shapes = backend.wasm._malloc(4 * shapes.length);
    backend.wasm.HEAP32.set(shapes, this.shapes >> 2);
  }

  /** The byte address of the `i`-th int32 of the shape buffer. */
  shape(i: number): number {
    return this.shapes + 4 * i;
  }

  output(shape: number[]): TensorInfo {
    return this.backend.makeOutput(shape, 'float32');
  }

  temp(shape: number[]): TensorInfo {
    const t = this.output(shape);
    this.temps.push(t);
    return t;
  }

  keep(t: TensorInfo): TensorInfo {
    this.temps.push(t);
    return t;
  }

  id(t: TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId).id;
  }

  /** Offset of `t` in HEAPF32 (valid across heap growth; the array itself is re-read after each call). */
  at(t: TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId).memoryOffset >> 2;
  }

  release(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.backend.wasm._free(this.shapes);
  }
}

function dimsOf(t: TensorInfo): { B: number; T: number; H: number; G: number } {
  const G = t.shape[2]!;
  return { B: t.shape[0]!, T: t.shape[1]!, H: G / 4, G };
}

/**
 * hs, hLast, hPrevs, cs, tcs, gates — the layout of the cpu kernel's outputs. Each step multiplies
 * [x_t | h_{t-1}] by the stacked [W; U] in one product: the input projection costs no matmul of its own.
 */
function forward({ inputs, backend }: Args): TensorInfo[] {
  const { x: xT, w: wT, u: uT, b: bT } = inputs as Record<string, TensorInfo>;
  const [B, T, D] = xT!.shape as [number, number, number];
  const G = uT!.shape[1]!;
  const H = G / 4;
  const K = D + H;
  const wasm = backend.wasm;
  const m = new Heap(backend, [1, B, K, 1, K, G]);
  try {
    const seq = [B, T, H];
    const outs = [m.output(seq), m.output([B, H]), m.output(seq), m.output(seq), m.output(seq), m.output([B, T, G])];
    const [hs, hLast, hPrevs, cs, tcs, gates] = outs.map((t) => m.at(t)) as [number, number, number, number, number, number];
    const wuT = m.temp([K, G]);
    const xhT = m.temp([B, K]);
    const zT = m.temp([B, G]);
    const actT = m.temp([B, G]);
    const c2T = m.temp([B, H]);
    const tcT = m.temp([B, H]);
    const [wu, xh, z, act, c2, tc, x] = [m.at(wuT), m.at(xhT), m.at(zT), m.at(actT), m.at(c2T), m.at(tcT), m.at(xT!)];
    const [xhId, wuId, zId, actId, c2Id, tcId] = [m.id(xhT), m.id(wuT), m.id(zT), m.id(actT), m.id(c2T), m.id(tcT)];
    let heap = wasm.HEAPF32;
    heap.copyWithin(wu, m.at(wT!), m.at(wT!) + D * G);
    heap.copyWithin(wu + D * G, m.at(uT!), m.at(uT!) + H * G);
    const bias = heap.slice(m.at(bT!), m.at(bT!) + G);
    const cell = new Float32Array(B * H);
    heap.fill(0, xh, xh + B * K);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) heap.copyWithin(xh + b * K, x + (b * T + t) * D, x + (b * T + t + 1) * D);
      wasm._BatchMatMul(xhId, m.shape(0), 3, wuId, m.shape(3), 3, 0, 0, zId);
      heap = wasm.HEAPF32;
      for (let b = 0; b < B; b++) {
        const dst = z + b * G;
        // z = [x | h]·[W; U] + b; the g quarter doubled for tanh(z) = 2·sigmoid(2z) − 1.
        for (let k = 0; k < 2 * H; k++) heap[dst + k]! += bias[k]!;
        for (let k = 2 * H; k < 3 * H; k++) heap[dst + k] = 2 * (heap[dst + k]! + bias[k]!);
        for (let k = 3 * H; k < G; k++) heap[dst + k]! += bias[k]!;
      }
      wasm._Sigmoid(zId, actId);
      heap = wasm.HEAPF32;
      for (let b = 0; b < B; b++) {
        const a = act + b * G;
        const gBase = gates + (b * T + t) * G;
        const sBase = (b * T + t) * H;
        const hPrev = xh + b * K + D;
        for (let j = 0; j < H; j++) {
          const s = b * H + j;
          const i = heap[a + j]!;
          const f = heap[a + H + j]!;
          heap[a + 2 * H + j] = 2 * heap[a + 2 * H + j]! - 1;
          const g = heap[a + 2 * H + j]!;
          const o = heap[a + 3 * H + j]!;
          cell[s] = f * cell[s]! + i * g;
          heap[gBase + j] = i;
          heap[gBase + H + j] = f;
          heap[gBase + 2 * H + j] = g;
          heap[gBase + 3 * H + j] = o;
          heap[cs + sBase + j] = cell[s]!;
          heap[c2 + s] = 2 * cell[s]!;
          heap[hPrevs + sBase + j] = heap[hPrev + j]!;
        }
      }
      wasm._Sigmoid(c2Id, tcId);
      heap = wasm.HEAPF32;
      for (let b = 0; b < B; b++) {
        const a = act + b * G;
        const sBase = (b * T + t) * H;
        const hNext = xh + b * K + D;
        for (let j = 0; j < H; j++) {
          const s = b * H + j;
          heap[tc + s] = 2 * heap[tc + s]! - 1;
          const h = heap[a + 3 * H + j]! * heap[tc + s]!;
          heap[tcs + sBase + j] = heap[tc + s]!;
          heap[hs + sBase + j] = h;
          heap[hLast + s] = h;
          heap[hNext + j] = h;
        }
      }
    }
    return outs;
  } finally {
    m.release();
  }
}

/** dz ([batch, steps, 4·units]) and the bias gradient (its sums over batch and steps). */
function backward({ inputs, attrs, backend }: Args): TensorInfo[] {
  const { dh: dhT, u, cs: csT, tcs: tcsT, gates: gatesT } = inputs as Record<string, TensorInfo>;
  const { B, T, H, G } = dimsOf(gatesT!);
  const sequences = attrs.sequences === true;
  const wasm = backend.wasm;
  const m = new Heap(backend, [1, B, G, 1, G, H]);
  try {
    const uT = m.keep(transposeLastTwo(backend, u!));
    const dzT = m.output([B, T, G]);
    const dbT = m.output([G]);
    const stepT = m.temp([B, G]);
    const dhNextT = m.temp([B, H]);
    const [dh, cs, tcs, gates, dz, db, step, dhNext] = [dhT!, csT!, tcsT!, gatesT!, dzT, dbT, stepT, dhNextT].map((t) => m.at(t)) as number[] as [
      number, number, number, number, number, number, number, number,
    ];
    const [stepId, uTId, dhNextId] = [m.id(stepT), m.id(uT), m.id(dhNextT)];
    const dcNext = new Float32Array(B * H);
    const bias = new Float32Array(G);
    let heap = wasm.HEAPF32;
    heap.fill(0, dhNext, dhNext + B * H);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const zBase = (b * T + t) * G;
        const sBase = (b * T + t) * H;
        const k0 = step + b * G;
        for (let j = 0; j < H; j++) {
          const s = b * H + j;
          const given = sequences ? heap[dh + sBase + j]! : t === T - 1 ? heap[dh + s]! : 0;
          const dH = given + heap[dhNext + s]!;
          const i = heap[gates + zBase + j]!;
          const f = heap[gates + zBase + H + j]!;
          const g = heap[gates + zBase + 2 * H + j]!;
          const o = heap[gates + zBase + 3 * H + j]!;
          const tc = heap[tcs + sBase + j]!;
          const cPrev = t > 0 ? heap[cs + sBase - H + j]! : 0;
          const dc = dcNext[s]! + dH * o * (1 - tc * tc);
          dcNext[s] = dc * f;
          heap[k0 + j] = dc * g * i * (1 - i);
          heap[k0 + H + j] = dc * cPrev * f * (1 - f);
          heap[k0 + 2 * H + j] = dc * i * (1 - g * g);
          heap[k0 + 3 * H + j] = dH * tc * o * (1 - o);
        }
        const out = dz + zBase;
        for (let k = 0; k < G; k++) {
          const v = heap[k0 + k]!;
          heap[out + k] = v;
          bias[k]! += v;
        }
      }
      if (t > 0) {
        wasm._BatchMatMul(stepId, m.shape(0), 3, uTId, m.shape(3), 3, 0, 0, dhNextId);
        heap = wasm.HEAPF32;
      }
    }
    heap.set(bias, db);
    return [dzT, dbT];
  } finally {
    m.release();
  }
}

export const wasmLstmKernelFuncs = { forward: forward as unknown as KernelFunc, backward: backward as unknown as KernelFunc };
