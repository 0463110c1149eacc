import { SIMD_WASM_BASE64 } from './simd-wasm.generated.js';

/**
 * mlpipe's own wasm SIMD128 kernels (assembly/simd/, AssemblyScript), instantiated on a given
 * WebAssembly.Memory — tfjs-wasm's heap — so they work on tensors in place. Pointers are byte
 * addresses into that memory; the module has no data or globals of its own, so it writes only
 * where it is told. Compiled once, one instance per memory.
 */
export interface SimdKernels {
  /** C[M×N] (row stride ldc) = A·B (+= when acc ≠ 0); A(i, k) = a[i·sai + k·sak]; B row-major, row stride ldb. */
  gemm(M: number, N: number, K: number, a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  lstmForward(x: number, w: number, u: number, bias: number, hs: number, hLast: number, hPrevs: number, cs: number, tcs: number, gates: number, B: number, T: number, D: number, H: number): void;
  lstmBackward(
    dh: number, sequences: number, x: number, w: number, u: number, hPrevs: number, cs: number, tcs: number, gates: number,
    dx: number, dW: number, dU: number, db: number, scratch: number, B: number, T: number, D: number, H: number,
  ): void;
  /** Floats of scratch memory lstmBackward needs. */
  lstmBackwardScratch(B: number, T: number, D: number, H: number): number;
  columnSums(m: number, rows: number, width: number, out: number): void;
  adam(w: number, g: number, m: number, v: number, n: number, beta1: number, beta2: number, step: number, c2: number, eps: number): void;
}

/** The WebAssembly JS API (this project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => object;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A WebAssembly.Memory. */
export type WasmMemory = object;

let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, SimdKernels>();

function module(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
    } catch {
      compiled = null; // an engine without wasm SIMD128
    }
  }
  return compiled ?? null;
}

/** The kernels working in `memory`, or undefined where the engine cannot run them. */
export function simdKernels(memory: WasmMemory): SimdKernels | undefined {
  let k = instances.get(memory);
  if (k) return k;
  const m = module();
  if (!m) return undefined;
  k = new WA.Instance(m, { env: { memory } }).exports as unknown as SimdKernels;
  instances.set(memory, k);
  return k;
}

/** tfjs-wasm's memory, from its Emscripten module (`asm.memory`), or undefined on other builds. */
export function wasmBackendMemory(backend: unknown): WasmMemory | undefined {
  const mem = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return mem instanceof WA.Memory ? mem : undefined;
}

/** The kernels on the wasm backend's heap, when it exposes its memory and the engine has SIMD. */
export function simdKernelsOf(backend: unknown): SimdKernels | undefined {
  const memory = wasmBackendMemory(backend);
  return memory ? simdKernels(memory) : undefined;
}
