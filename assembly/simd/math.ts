// exp, sigmoid and tanh in f32, one lane (f32) and four lanes (v128) with the same formulas:
// Cephes' expf (range reduction by ln 2, degree-5 polynomial, 2^n built in the exponent bits),
// accurate to about 2 ulp over [-87, 88]. No lookup tables: the module has no data segment.

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline
export function exp1(x: f32): f32 {
  x = min(max(x, <f32>-87.0), <f32>88.0);
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  const y = p * r * r + r + <f32>1.0;
  return y * reinterpret<f32>((<i32>n + 127) << 23);
}

// @ts-ignore: decorator
@inline
export function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), expv(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline
export function sigmoid1(x: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + exp1(-x));
}

/** tanh(x) = 2·sigmoid(2x) − 1. */
// @ts-ignore: decorator
@inline
export function tanhv(x: v128): v128 {
  return f32x4.sub(f32x4.mul(f32x4.splat(2.0), sigmoidv(f32x4.add(x, x))), f32x4.splat(1.0));
}

// @ts-ignore: decorator
@inline
export function tanh1(x: f32): f32 {
  return <f32>2.0 * sigmoid1(x + x) - <f32>1.0;
}
