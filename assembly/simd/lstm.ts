// A whole LSTM sequence, forward and backward, on buffers of the caller's memory (tfjs-wasm's
// heap). Layout as in src/ml/kernels/fused-lstm.ts: x [B, T, D], W [D, 4H], U [H, 4H], b [4H],
// gates i, f, g, o along the last axis. Byte addresses; B batch, T steps, D features, H units.
import { gemm } from './gemm';
import { sigmoid1, sigmoidv, tanh1, tanhv } from './math';

// @ts-ignore: decorator
@inline
function f4(i: i32): usize {
  return <usize>i << 2;
}

// @ts-ignore: decorator
@inline
function loadOr0(p: usize, o: usize): v128 {
  return p ? v128.load(p + o) : f32x4.splat(0);
}

// @ts-ignore: decorator
@inline
function loadOr0s(p: usize, o: usize): f32 {
  return p ? load<f32>(p + o) : 0;
}

/**
 * Outputs hs, hPrevs (h of the step before, 0 at t = 0), cs, tcs (tanh of cs) [B, T, H], hLast
 * [B, H], gates (activated) [B, T, 4H]. x·W for all steps is one product before the recurrence.
 */
export function lstmForward(x: usize, w: usize, u: usize, bias: usize, hs: usize, hLast: usize, hPrevs: usize, cs: usize, tcs: usize, gates: usize, B: i32, T: i32, D: i32, H: i32): void {
  const G = 4 * H;
  const rows = B * T;
  for (let r = 0; r < rows; r++) memory.copy(gates + f4(r * G), bias, f4(G));
  gemm(rows, G, D, x, D, 1, w, G, gates, G, 1);
  for (let t = 0; t < T; t++) {
    if (t > 0) gemm(B, G, H, hs + f4((t - 1) * H), T * H, 1, u, G, gates + f4(t * G), T * G, 1);
    for (let b = 0; b < B; b++) {
      const r = b * T + t;
      const prev = t > 0 ? f4((r - 1) * H) : 0;
      forwardRow(gates + f4(r * G), H, cs + f4(r * H), t > 0 ? cs + prev : 0, tcs + f4(r * H), hs + f4(r * H), hPrevs + f4(r * H), t > 0 ? hs + prev : 0);
    }
  }
  for (let b = 0; b < B; b++) memory.copy(hLast + f4(b * H), hs + f4((b * T + T - 1) * H), f4(H));
}

/** One row of one step: z → activations in place, then c, tanh(c), h; cPrev/hPrev 0 at t = 0. */
function forwardRow(z: usize, H: i32, c: usize, cPrev: usize, tc: usize, h: usize, hPrevOut: usize, hPrev: usize): void {
  const G = 4 * H;
  const one = f32x4.splat(1.0);
  const two = f32x4.splat(2.0);
  const g0 = i32x4.splat(2 * H);
  const g1 = i32x4.splat(3 * H);
  // sigmoid for i, f, o; tanh(z) = 2·sigmoid(2z) − 1 for g (lanes chosen by column, as H need not be a multiple of 4).
  for (let k = 0; k < G; k += 4) {
    const col = i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3));
    const inG = v128.and(i32x4.ge_s(col, g0), i32x4.lt_s(col, g1));
    const scale = v128.bitselect(two, one, inG);
    const s = sigmoidv(f32x4.mul(v128.load(z + f4(k)), scale));
    v128.store(z + f4(k), f32x4.sub(f32x4.mul(s, scale), v128.and(one, inG)));
  }
  const q = f4(H);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const o = f4(j);
    const cv = f32x4.add(f32x4.mul(v128.load(z + q + o), loadOr0(cPrev, o)), f32x4.mul(v128.load(z + o), v128.load(z + 2 * q + o)));
    v128.store(c + o, cv);
    const t = tanhv(cv);
    v128.store(tc + o, t);
    v128.store(h + o, f32x4.mul(v128.load(z + 3 * q + o), t));
    v128.store(hPrevOut + o, loadOr0(hPrev, o));
  }
  for (; j < H; j++) {
    const o = f4(j);
    const cv = load<f32>(z + q + o) * loadOr0s(cPrev, o) + load<f32>(z + o) * load<f32>(z + 2 * q + o);
    store<f32>(c + o, cv);
    const t = tanh1(cv);
    store<f32>(tc + o, t);
    store<f32>(h + o, load<f32>(z + 3 * q + o) * t);
    store<f32>(hPrevOut + o, loadOr0s(hPrev, o));
  }
}

/** Floats of scratch `lstmBackward` needs. */
export function lstmBackwardScratch(B: i32, T: i32, D: i32, H: i32): i32 {
  const G = 4 * H;
  return G * H + G * D + 2 * B * H + B * T * G;
}

/**
 * The gradients dx [B, T, D], dW [D, 4H], dU [H, 4H], db [4H] given dh: ∂loss/∂h of every step
 * ([B, T, H], `sequences` ≠ 0) or of the last one ([B, H]). Only dh_{t−1} = dz_t·Uᵀ is sequential:
 * dx, dW and dU are one product each over all steps afterwards. `scratch`: lstmBackwardScratch floats.
 */
export function lstmBackward(dh: usize, sequences: i32, x: usize, w: usize, u: usize, hPrevs: usize, cs: usize, tcs: usize, gates: usize, dx: usize, dW: usize, dU: usize, db: usize, scratch: usize, B: i32, T: i32, D: i32, H: i32): void {
  const G = 4 * H;
  const uT = scratch;
  const wT = uT + f4(G * H);
  const dhNext = wT + f4(G * D);
  const dcNext = dhNext + f4(B * H);
  const dz = dcNext + f4(B * H);
  transpose(u, H, G, uT);
  transpose(w, D, G, wT);
  memory.fill(dhNext, 0, f4(2 * B * H));
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const r = b * T + t;
      const given = sequences ? dh + f4(r * H) : t === T - 1 ? dh + f4(b * H) : 0;
      backwardRow(dz + f4(r * G), gates + f4(r * G), tcs + f4(r * H), t > 0 ? cs + f4((r - 1) * H) : 0, given, dhNext + f4(b * H), dcNext + f4(b * H), H);
    }
    if (t > 0) gemm(B, H, G, dz + f4(t * G), T * G, 1, uT, H, dhNext, H, 0);
  }
  const rows = B * T;
  columnSums(dz, rows, G, db);
  gemm(rows, D, G, dz, G, 1, wT, D, dx, D, 0);
  gemm(D, G, rows, x, 1, D, dz, G, dW, G, 0);
  gemm(H, G, rows, hPrevs, 1, H, dz, G, dU, G, 0);
}

function backwardRow(dz: usize, gt: usize, tc: usize, cPrev: usize, given: usize, dhNext: usize, dcNext: usize, H: i32): void {
  const q = f4(H);
  const one = f32x4.splat(1.0);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const o = f4(j);
    const dH = f32x4.add(loadOr0(given, o), v128.load(dhNext + o));
    const i = v128.load(gt + o);
    const f = v128.load(gt + q + o);
    const g = v128.load(gt + 2 * q + o);
    const og = v128.load(gt + 3 * q + o);
    const t = v128.load(tc + o);
    const dc = f32x4.add(v128.load(dcNext + o), f32x4.mul(f32x4.mul(dH, og), f32x4.sub(one, f32x4.mul(t, t))));
    v128.store(dcNext + o, f32x4.mul(dc, f));
    v128.store(dz + o, f32x4.mul(f32x4.mul(f32x4.mul(dc, g), i), f32x4.sub(one, i)));
    v128.store(dz + q + o, f32x4.mul(f32x4.mul(f32x4.mul(dc, loadOr0(cPrev, o)), f), f32x4.sub(one, f)));
    v128.store(dz + 2 * q + o, f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(g, g))));
    v128.store(dz + 3 * q + o, f32x4.mul(f32x4.mul(f32x4.mul(dH, t), og), f32x4.sub(one, og)));
  }
  for (; j < H; j++) {
    const o = f4(j);
    const dH = loadOr0s(given, o) + load<f32>(dhNext + o);
    const i = load<f32>(gt + o);
    const f = load<f32>(gt + q + o);
    const g = load<f32>(gt + 2 * q + o);
    const og = load<f32>(gt + 3 * q + o);
    const t = load<f32>(tc + o);
    const dc = load<f32>(dcNext + o) + dH * og * (<f32>1 - t * t);
    store<f32>(dcNext + o, dc * f);
    store<f32>(dz + o, dc * g * i * (<f32>1 - i));
    store<f32>(dz + q + o, dc * loadOr0s(cPrev, o) * f * (<f32>1 - f));
    store<f32>(dz + 2 * q + o, dc * i * (<f32>1 - g * g));
    store<f32>(dz + 3 * q + o, dH * t * og * (<f32>1 - og));
  }
}

/** out [cols × rows] = mᵀ, m row-major [rows × cols]. */
function transpose(m: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) store<f32>(out + f4(c * rows + r), load<f32>(m + f4(r * cols + c)));
}

/** out[c] = Σ over rows of m[·, c] (m row-major [rows × width]). */
export function columnSums(m: usize, rows: i32, width: i32, out: usize): void {
  memory.fill(out, 0, f4(width));
  for (let r = 0; r < rows; r++) {
    const row = m + f4(r * width);
    let c = 0;
    for (; c + 4 <= width; c += 4) v128.store(out + f4(c), f32x4.add(v128.load(out + f4(c)), v128.load(row + f4(c))));
    for (; c < width; c++) store<f32>(out + f4(c), load<f32>(out + f4(c)) + load<f32>(row + f4(c)));
  }
}
