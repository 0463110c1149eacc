import type { KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tf } from '../../core/backend.js';
import { transposeLastTwo } from './matmul.js';

/**
 * A whole LSTM sequence (forward, and backward for the gradient) as one kernel each, instead of
 * ~15 kernels per time step forward and ~30 backward. The gate math runs in JS over the batch; the
 * recurrent matrix product of each step uses the backend's matmul (wasm: XNNPACK) on wasm, plain JS
 * on cpu. Gates follow Keras/TensorFlow.js: z = x·W + h·U + b split into i, f, g, o; activations
 * sigmoid (gates) and tanh.
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

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** hs, hLast, hPrevs (h of the step before, 0 at t = 0), cs, gates (activated i, f, g, o). */
export function lstmForward(xw: Float32Array, dims: Dims, recurrent: MatMul) {
  const { batch: B, steps: T, units: H } = dims;
  const G = 4 * H;
  const hs = new Float32Array(B * T * H);
  const hPrevs = new Float32Array(B * T * H);
  const cs = new Float32Array(B * T * H);
  const gates = new Float32Array(B * T * G);
  const hLast = new Float32Array(B * H);
  const rec = new Float32Array(B * G);
  for (let t = 0; t < T; t++) {
    if (t > 0) recurrent(hLast, B, false, rec);
    for (let b = 0; b < B; b++) {
      const zBase = (b * T + t) * G;
      const sBase = (b * T + t) * H;
      for (let j = 0; j < H; j++) {
        const r = t > 0 ? b * G + j : -1;
        const i = sigmoid(xw[zBase + j]! + (r >= 0 ? rec[r]! : 0));
        const f = sigmoid(xw[zBase + H + j]! + (r >= 0 ? rec[r + H]! : 0));
        const g = Math.tanh(xw[zBase + 2 * H + j]! + (r >= 0 ? rec[r + 2 * H]! : 0));
        const o = sigmoid(xw[zBase + 3 * H + j]! + (r >= 0 ? rec[r + 3 * H]! : 0));
        const cPrev = t > 0 ? cs[sBase - H + j]! : 0;
        const c = f * cPrev + i * g;
        const h = o * Math.tanh(c);
        gates[zBase + j] = i;
        gates[zBase + H + j] = f;
        gates[zBase + 2 * H + j] = g;
        gates[zBase + 3 * H + j] = o;
        cs[sBase + j] = c;
        hPrevs[sBase + j] = hLast[b * H + j]!;
        hs[sBase + j] = h;
      }
    }
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) hLast[b * H + j] = hs[(b * T + t) * H + j]!;
  }
  return { hs, hLast, hPrevs, cs, gates };
}

/** dz = ∂loss/∂z for every step, given ∂loss/∂h of every step (`sequences`) or of the last one only. */
export function lstmBackward(dh: Float32Array, sequences: boolean, cs: Float32Array, gates: Float32Array, dims: Dims, recurrent: MatMul): Float32Array {
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
      for (let j = 0; j < H; j++) {
        const given = sequences ? dh[sBase + j]! : t === T - 1 ? dh[b * H + j]! : 0;
        const dH = given + dhNext[b * H + j]!;
        const i = gates[zBase + j]!;
        const f = gates[zBase + H + j]!;
        const g = gates[zBase + 2 * H + j]!;
        const o = gates[zBase + 3 * H + j]!;
        const tc = Math.tanh(cs[sBase + j]!);
        const cPrev = t > 0 ? cs[sBase - H + j]! : 0;
        const dc = dcNext[b * H + j]! + dH * o * (1 - tc * tc);
        dcNext[b * H + j] = dc * f;
        const k = b * G + j;
        dzStep[k] = dc * g * i * (1 - i);
        dzStep[k + H] = dc * cPrev * f * (1 - f);
        dzStep[k + 2 * H] = dc * i * (1 - g * g);
        dzStep[k + 3 * H] = dH * tc * o * (1 - o);
      }
      dz.set(dzStep.subarray(b * G, (b + 1) * G), zBase);
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

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
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

/** Kernel configs for wasm (recurrent matmul through the wasm BatchMatMul kernel) and cpu (JS matmul). */
export function fusedLstmKernels(tf: Tf): Record<string, KernelConfig[]> {
  const configs: Record<string, KernelConfig[]> = {};
  const wasmMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (wasmMatMul) {
    const recurrentOn = (backend: WasmBackendLike, u: TensorInfo, rows: number): { matmul: MatMul; release(): void } => {
      const k = u.shape[0]!;
      const n = u.shape[1]!;
      const uT = transposeLastTwo(backend, u);
      const left = { forward: backend.makeOutput([rows, k], 'float32'), backward: backend.makeOutput([rows, n], 'float32') };
      return {
        matmul: (a, r, transposeB, out) => {
          const input = transposeB ? left.backward : left.forward;
          backend.typedArrayFromHeap(input).set(a.subarray(0, r * (transposeB ? n : k)));
          const product = wasmMatMul.kernelFunc({ inputs: { a: input, b: transposeB ? uT : u }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
          out.set(backend.typedArrayFromHeap(product));
          backend.disposeData(product.dataId);
        },
        release() {
          backend.disposeData(left.forward.dataId);
          backend.disposeData(left.backward.dataId);
          backend.disposeData(uT.dataId);
        },
      };
    };
    const output = (backend: WasmBackendLike, shape: number[], values: Float32Array): TensorInfo => {
      const out = backend.makeOutput(shape, 'float32');
      backend.typedArrayFromHeap(out).set(values);
      return out;
    };
    const forward = ({ inputs, backend }: Args<WasmBackendLike>): TensorInfo[] => {
      const dims = dimsOf(inputs.xw!);
      const r = recurrentOn(backend, inputs.u!, dims.batch);
      try {
        const o = lstmForward(backend.typedArrayFromHeap(inputs.xw!).slice(), dims, r.matmul);
        return packForward(o, dims, (shape, values) => output(backend, shape, values));
      } finally {
        r.release();
      }
    };
    const backward = ({ inputs, attrs, backend }: Args<WasmBackendLike>): TensorInfo => {
      const dims = dimsOf(inputs.gates!);
      const r = recurrentOn(backend, inputs.u!, dims.batch);
      try {
        const read = (t: TensorInfo) => backend.typedArrayFromHeap(t).slice();
        const dz = lstmBackward(read(inputs.dh!), attrs.sequences === true, read(inputs.cs!), read(inputs.gates!), dims, r.matmul);
        return output(backend, inputs.gates!.shape, dz);
      } finally {
        r.release();
      }
    };
    configs.wasm = [
      { kernelName: LSTM_FORWARD, backendName: 'wasm', kernelFunc: forward as unknown as KernelFunc },
      { kernelName: LSTM_BACKWARD, backendName: 'wasm', kernelFunc: backward as unknown as KernelFunc },
    ];
  }
  const cpuForward = ({ inputs, backend }: Args<CpuBackendLike>): TensorInfo[] => {
    const dims = dimsOf(inputs.xw!);
    const u = inputs.u!;
    const o = lstmForward(backend.data.get(inputs.xw!.dataId).values, dims, jsMatMul(backend.data.get(u.dataId).values, u.shape[0]!, u.shape[1]!));
    return packForward(o, dims, (shape, values) => backend.makeTensorInfo(shape, 'float32', values));
  };
  const cpuBackward = ({ inputs, attrs, backend }: Args<CpuBackendLike>): TensorInfo => {
    const dims = dimsOf(inputs.gates!);
    const u = inputs.u!;
    const v = (t: TensorInfo) => backend.data.get(t.dataId).values;
    const dz = lstmBackward(v(inputs.dh!), attrs.sequences === true, v(inputs.cs!), v(inputs.gates!), dims, jsMatMul(v(u), u.shape[0]!, u.shape[1]!));
    return backend.makeTensorInfo(inputs.gates!.shape, 'float32', dz);
  };
  configs.cpu = [
    { kernelName: LSTM_FORWARD, backendName: 'cpu', kernelFunc: cpuForward as unknown as KernelFunc },
    { kernelName: LSTM_BACKWARD, backendName: 'cpu', kernelFunc: cpuBackward as unknown as KernelFunc },
  ];
  return configs;
}

function packForward(o: ReturnType<typeof lstmForward>, d: Dims, make: (shape: number[], values: Float32Array) => TensorInfo): TensorInfo[] {
  const seq = [d.batch, d.steps, d.units];
  return [make(seq, o.hs), make([d.batch, d.units], o.hLast), make(seq, o.hPrevs), make(seq, o.cs), make([d.batch, d.steps, 4 * d.units], o.gates)];
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
    const xw = tf.reshape(tf.fused.matMul({ a: tf.reshape(xs, [B * T, D]), b: w, bias: b }), [B, T, 4 * H]);
    const [hs, hLast, hPrevs, cs, gates] = tf.engine().runKernel(LSTM_FORWARD, { xw, u }, {}) as Tensor[];
    save([xs, w, u, hPrevs!, cs!, gates!]);
    return {
      value: returnSequences ? hs! : hLast!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sw, su, sPrev, sc, sg] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
        const dz = tf.engine().runKernel(LSTM_BACKWARD, { dh: dy, u: su, cs: sc, gates: sg }, { sequences: returnSequences }) as Tensor;
        const dz2 = tf.reshape(dz, [B * T, 4 * H]);
        return [
          tf.reshape(tf.matMul(dz2, sw, false, true), [B, T, D]),
          tf.matMul(tf.reshape(sx, [B * T, D]), dz2, true, false),
          tf.matMul(tf.reshape(sPrev, [B * T, H]), dz2, true, false),
          tf.sum(dz2, 0),
        ];
      },
    };
  });
  return op(x, kernel, recurrentKernel, bias);
}
