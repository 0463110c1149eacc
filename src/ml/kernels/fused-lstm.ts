import type { KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { hasWasmLstmEntryPoints, wasmLstmKernelFuncs } from './fused-lstm-wasm.js';

/**
 * A whole LSTM sequence (forward, and backward for the gradient) as one kernel each, instead of
 * ~15 kernels per time step forward and ~30 backward. The gate math runs in JS over the batch; the
 * recurrent matrix product of each step uses the backend's matmul (wasm: XNNPACK) on wasm, plain JS
 * on cpu. Gates follow Keras/TensorFlow.js: z = x·W + h·U + b split into i, f, g, o; activations
 * sigmoid (gates) and tanh. The backward kernel returns the gradients of x, W, U and b.
 */
export const LSTM_FORWARD = 'MlpipeLstmForward';
export const LSTM_BACKWARD = 'MlpipeLstmBackward';

interface Dims {
  batch: number;
  steps: number;
  units: number;
}

/** out[rows × n] = a[rows × k] · b (b: k × n), or a · bᵀ (b: n × k) when `transposeB`. */
type MatMul = (a: Float32Array, rows: number, transposeB: boolean, out: Float32Array) => void;

/** The transcendental parts of a step, over whole [batch, …] blocks. */
export interface StepMath {
  /** act = sigmoid(z) for the i, f, o quarters and tanh(z) for g; z and act are [batch, 4·units]; z may be overwritten. */
  gates(z: Float32Array, act: Float32Array, units: number): void;
  tanh(x: Float32Array, out: Float32Array): void;
}

/** Plain JS activations. */
export const jsStepMath: StepMath = {
  gates(z, act, units) {
    const g0 = 2 * units;
    const g1 = 3 * units;
    const G = 4 * units;
    for (let k = 0; k < z.length; k++) {
      const q = k % G;
      act[k] = q >= g0 && q < g1 ? Math.tanh(z[k]!) : 1 / (1 + Math.exp(-z[k]!));
    }
  },
  tanh(x, out) {
    for (let k = 0; k < x.length; k++) out[k] = Math.tanh(x[k]!);
  },
};

/** hs, hLast, hPrevs (h of the step before, 0 at t = 0), cs, tcs (tanh of cs), gates (activated i, f, g, o). */
export function lstmForward(xw: Float32Array, dims: Dims, recurrent: MatMul, math: StepMath) {
  const { batch: B, steps: T, units: H } = dims;
  const G = 4 * H;
  const hs = new Float32Array(B * T * H);
  const hPrevs = new Float32Array(B * T * H);
  const cs = new Float32Array(B * T * H);
  const tcs = new Float32Array(B * T * H);
  const gates = new Float32Array(B * T * G);
  const hLast = new Float32Array(B * H);
  const cLast = new Float32Array(B * H);
  const tcStep = new Float32Array(B * H);
  const z = new Float32Array(B * G);
  const act = new Float32Array(B * G);
  for (let t = 0; t < T; t++) {
    if (t > 0) recurrent(hLast, B, false, z);
    for (let b = 0; b < B; b++) {
      const src = (b * T + t) * G;
      const dst = b * G;
      if (t > 0) for (let k = 0; k < G; k++) z[dst + k]! += xw[src + k]!;
      else z.set(xw.subarray(src, src + G), dst);
    }
    math.gates(z, act, H);
    for (let b = 0; b < B; b++) {
      const a = b * G;
      for (let j = 0; j < H; j++) {
        const s = b * H + j;
        cLast[s] = act[a + H + j]! * cLast[s]! + act[a + j]! * act[a + 2 * H + j]!;
      }
    }
    math.tanh(cLast, tcStep);
    for (let b = 0; b < B; b++) {
      const a = b * G;
      const sBase = (b * T + t) * H;
      gates.set(act.subarray(a, a + G), (b * T + t) * G);
      hPrevs.set(hLast.subarray(b * H, (b + 1) * H), sBase);
      cs.set(cLast.subarray(b * H, (b + 1) * H), sBase);
      tcs.set(tcStep.subarray(b * H, (b + 1) * H), sBase);
      for (let j = 0; j < H; j++) {
        const h = act[a + 3 * H + j]! * tcStep[b * H + j]!;
        hLast[b * H + j] = h;
        hs[sBase + j] = h;
      }
    }
  }
  return { hs, hLast, hPrevs, cs, tcs, gates };
}

/** out[c] = Σ over rows of m[·, c] (m: rows × width, row-major): the bias gradient from dz. */
export function columnSums(m: Float32Array, width: number): Float32Array {
  const out = new Float32Array(width);
  for (let r = 0; r < m.length; r += width) for (let c = 0; c < width; c++) out[c]! += m[r + c]!;
  return out;
}

/** aᵀ·b for row-major a [rows × m] and b [rows × n]: [m × n]. */
function transposedProduct(a: Float32Array, m: number, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let r = 0; r < a.length / m; r++) {
    for (let i = 0; i < m; i++) {
      const av = a[r * m + i]!;
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += av * b[r * n + j]!;
    }
  }
  return out;
}

/** dz = ∂loss/∂z for every step, given ∂loss/∂h of every step (`sequences`) or of the last one only. */
export function lstmBackward(dh: Float32Array, sequences: boolean, cs: Float32Array, tcs: Float32Array, gates: Float32Array, dims: Dims, recurrent: MatMul): Float32Array {
  const { batch: B, steps: T, units: H } = dims;
  const G = 4 * H;
  const dz = new Float32Array(B * T * G);
  const dzStep = new Float32Array(B * G);
  const dhNext = new Float32Array(B * H);
  const dcNext = new Float32Array(B * H);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const zBase = (b * T + t) * G;
      const sBase = (b * T + t) * H;
      const k0 = b * G;
      for (let j = 0; j < H; j++) {
        const given = sequences ? dh[sBase + j]! : t === T - 1 ? dh[b * H + j]! : 0;
        const dH = given + dhNext[b * H + j]!;
        const i = gates[zBase + j]!;
        const f = gates[zBase + H + j]!;
        const g = gates[zBase + 2 * H + j]!;
        const o = gates[zBase + 3 * H + j]!;
        const tc = tcs[sBase + j]!;
        const cPrev = t > 0 ? cs[sBase - H + j]! : 0;
        const dc = dcNext[b * H + j]! + dH * o * (1 - tc * tc);
        dcNext[b * H + j] = dc * f;
        const k = k0 + j;
        dzStep[k] = dc * g * i * (1 - i);
        dzStep[k + H] = dc * cPrev * f * (1 - f);
        dzStep[k + 2 * H] = dc * i * (1 - g * g);
        dzStep[k + 3 * H] = dH * tc * o * (1 - o);
      }
      dz.set(dzStep.subarray(k0, k0 + G), zBase);
    }
    if (t > 0) recurrent(dzStep, B, true, dhNext);
  }
  return dz;
}

function jsMatMul(u: Float32Array, k: number, n: number): MatMul {
  return (a, rows, transposeB, out) => {
    if (!transposeB) {
      out.fill(0, 0, rows * n);
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < k; p++) {
          const av = a[r * k + p]!;
          if (av === 0) continue;
          const uo = p * n;
          const oo = r * n;
          for (let c = 0; c < n; c++) out[oo + c]! += av * u[uo + c]!;
        }
      }
    } else {
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < k; p++) {
          let s = 0;
          const uo = p * n;
          const ao = r * n;
          for (let c = 0; c < n; c++) s += a[ao + c]! * u[uo + c]!;
          out[r * k + p] = s;
        }
      }
    }
  };
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

interface Args<B> {
  inputs: Record<string, TensorInfo>;
  attrs: { sequences?: boolean };
  backend: B;
}

function dimsOf(xw: TensorInfo): Dims {
  return { batch: xw.shape[0]!, steps: xw.shape[1]!, units: xw.shape[2]! / 4 };
}

/** Kernel configs for wasm (fused-lstm-wasm.ts: mlpipe's SIMD module on the wasm heap) and cpu (plain JS). */
export function fusedLstmKernels(tf: Tf): Record<string, KernelConfig[]> {
  const configs: Record<string, KernelConfig[]> = {};
  const wasm = tf.findBackend('wasm');
  if (wasm && hasWasmLstmEntryPoints(wasm)) {
    configs.wasm = [
      { kernelName: LSTM_FORWARD, backendName: 'wasm', kernelFunc: wasmLstmKernelFuncs.forward },
      { kernelName: LSTM_BACKWARD, backendName: 'wasm', kernelFunc: wasmLstmKernelFuncs.backward },
    ];
  }
  const cpuForward = ({ inputs, backend }: Args<CpuBackendLike>): TensorInfo[] => {
    const { x, w, u, b } = inputs as Record<string, TensorInfo>;
    const v = (t: TensorInfo) => backend.data.get(t.dataId).values;
    const [B, T, D] = x!.shape as [number, number, number];
    const G = u!.shape[1]!;
    const dims = { batch: B, steps: T, units: G / 4 };
    const xw = new Float32Array(B * T * G);
    jsMatMul(v(w!), D, G)(v(x!), B * T, false, xw);
    const bias = v(b!);
    for (let r = 0; r < xw.length; r += G) for (let k = 0; k < G; k++) xw[r + k]! += bias[k]!;
    const o = lstmForward(xw, dims, jsMatMul(v(u!), u!.shape[0]!, G), jsStepMath);
    return packForward(o, dims, (shape, values) => backend.makeTensorInfo(shape, 'float32', values));
  };
  const cpuBackward = ({ inputs, attrs, backend }: Args<CpuBackendLike>): TensorInfo[] => {
    const dims = dimsOf(inputs.gates!);
    const { x, w, u } = inputs as Record<string, TensorInfo>;
    const [B, T, D] = x!.shape as [number, number, number];
    const G = 4 * dims.units;
    const v = (t: TensorInfo) => backend.data.get(t.dataId).values;
    const dz = lstmBackward(v(inputs.dh!), attrs.sequences === true, v(inputs.cs!), v(inputs.tcs!), v(inputs.gates!), dims, jsMatMul(v(u!), u!.shape[0]!, G));
    const dx = new Float32Array(B * T * D);
    jsMatMul(v(w!), D, G)(dz, B * T, true, dx);
    const make = (shape: number[], values: Float32Array) => backend.makeTensorInfo(shape, 'float32', values);
    return [make(x!.shape, dx), make(w!.shape, transposedProduct(v(x!), D, dz, G)), make(u!.shape, transposedProduct(v(inputs.hPrevs!), dims.units, dz, G)), make([G], columnSums(dz, G))];
  };
  configs.cpu = [
    { kernelName: LSTM_FORWARD, backendName: 'cpu', kernelFunc: cpuForward as unknown as KernelFunc },
    { kernelName: LSTM_BACKWARD, backendName: 'cpu', kernelFunc: cpuBackward as unknown as KernelFunc },
  ];
  return configs;
}

function packForward(o: ReturnType<typeof lstmForward>, d: Dims, make: (shape: number[], values: Float32Array) => TensorInfo): TensorInfo[] {
  const seq = [d.batch, d.steps, d.units];
  return [make(seq, o.hs), make([d.batch, d.units], o.hLast), make(seq, o.hPrevs), make(seq, o.cs), make(seq, o.tcs), make([d.batch, d.steps, 4 * d.units], o.gates)];
}

/**
 * The LSTM of `x` ([batch, steps, features]) with kernel W, recurrent kernel U and bias b, as one
 * differentiable op: the last output ([batch, units]) or all of them ([batch, steps, units]).
 */
export function fusedLstm(tf: Tf, x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, returnSequences: boolean): Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [xs, w, u, b, save] = args as [Tensor, Tensor, Tensor, Tensor, (t: Tensor[]) => void];
    const [B, T, D] = xs.shape as [number, number, number];
    const H = u.shape[0]!;
    const [hs, hLast, hPrevs, cs, tcs, gates] = tf.engine().runKernel(LSTM_FORWARD, { x: xs, w, u, b }, {}) as Tensor[];
    save([xs, w, u, hPrevs!, cs!, tcs!, gates!]);
    return {
      value: returnSequences ? hs! : hLast!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sw, su, sPrev, sc, stc, sg] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
        return tf.engine().runKernel(LSTM_BACKWARD, { dh: dy, x: sx, w: sw, u: su, hPrevs: sPrev, cs: sc, tcs: stc, gates: sg }, { sequences: returnSequences }) as Tensor[];
      },
    };
  });
  return op(x, kernel, recurrentKernel, bias);
}
