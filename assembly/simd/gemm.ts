// A register-blocked f32 matrix product with wasm SIMD128 (no FMA in Node 20: mul then add).
// Blocks of 4 rows × 8 columns keep 8 accumulators, two B vectors and one splat of A in the 16
// xmm registers; column and row remainders take narrower loops, so any shape works.

/**
 * C[M×N] (row stride ldc) = A·B, or C += A·B when `acc` is not 0. A's element (i, k) is
 * a[i·sai + k·sak] (a row-major A: sai = its row stride, sak = 1; the transpose of a row-major
 * [K×M] matrix: sai = 1, sak = M). B is row-major [K×N] with row stride ldb. Pointers are byte
 * addresses, strides count floats.
 */
export function gemm(M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32): void {
  const sai4 = <usize>sai << 2;
  const sak4 = <usize>sak << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) rows4(N, K, a + <usize>i * sai4, sai4, sak4, b, ldb4, c + <usize>i * ldc4, ldc4, acc);
  for (; i < M; i++) row1(N, K, a + <usize>i * sai4, sak4, b, ldb4, c + <usize>i * ldc4, acc);
}

// @ts-ignore: decorator
@inline
function start(c: usize, acc: i32): v128 {
  return acc ? v128.load(c) : f32x4.splat(0);
}

function rows4(N: i32, K: i32, a: usize, sai4: usize, sak4: usize, b: usize, ldb4: usize, c: usize, ldc4: usize, acc: i32): void {
  const c1 = c + ldc4;
  const c2 = c1 + ldc4;
  const c3 = c2 + ldc4;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    const o = <usize>j << 2;
    let x00 = start(c + o, acc), x01 = start(c + o + 16, acc);
    let x10 = start(c1 + o, acc), x11 = start(c1 + o + 16, acc);
    let x20 = start(c2 + o, acc), x21 = start(c2 + o + 16, acc);
    let x30 = start(c3 + o, acc), x31 = start(c3 + o + 16, acc);
    let pa = a;
    let pb = b + o;
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let s = v128.load32_splat(pa);
      x00 = f32x4.add(x00, f32x4.mul(s, b0));
      x01 = f32x4.add(x01, f32x4.mul(s, b1));
      s = v128.load32_splat(pa + sai4);
      x10 = f32x4.add(x10, f32x4.mul(s, b0));
      x11 = f32x4.add(x11, f32x4.mul(s, b1));
      s = v128.load32_splat(pa + 2 * sai4);
      x20 = f32x4.add(x20, f32x4.mul(s, b0));
      x21 = f32x4.add(x21, f32x4.mul(s, b1));
      s = v128.load32_splat(pa + 3 * sai4);
      x30 = f32x4.add(x30, f32x4.mul(s, b0));
      x31 = f32x4.add(x31, f32x4.mul(s, b1));
      pa += sak4;
      pb += ldb4;
    }
    v128.store(c + o, x00);
    v128.store(c + o, x01, 16);
    v128.store(c1 + o, x10);
    v128.store(c1 + o, x11, 16);
    v128.store(c2 + o, x20);
    v128.store(c2 + o, x21, 16);
    v128.store(c3 + o, x30);
    v128.store(c3 + o, x31, 16);
  }
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    let x0 = start(c + o, acc), x1 = start(c1 + o, acc), x2 = start(c2 + o, acc), x3 = start(c3 + o, acc);
    let pa = a;
    let pb = b + o;
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb);
      x0 = f32x4.add(x0, f32x4.mul(v128.load32_splat(pa), b0));
      x1 = f32x4.add(x1, f32x4.mul(v128.load32_splat(pa + sai4), b0));
      x2 = f32x4.add(x2, f32x4.mul(v128.load32_splat(pa + 2 * sai4), b0));
      x3 = f32x4.add(x3, f32x4.mul(v128.load32_splat(pa + 3 * sai4), b0));
      pa += sak4;
      pb += ldb4;
    }
    v128.store(c + o, x0);
    v128.store(c1 + o, x1);
    v128.store(c2 + o, x2);
    v128.store(c3 + o, x3);
  }
  for (; j < N; j++) {
    const o = <usize>j << 2;
    let x0: f32 = acc ? load<f32>(c + o) : 0;
    let x1: f32 = acc ? load<f32>(c1 + o) : 0;
    let x2: f32 = acc ? load<f32>(c2 + o) : 0;
    let x3: f32 = acc ? load<f32>(c3 + o) : 0;
    let pa = a;
    let pb = b + o;
    for (let k = 0; k < K; k++) {
      const b0 = load<f32>(pb);
      x0 += load<f32>(pa) * b0;
      x1 += load<f32>(pa + sai4) * b0;
      x2 += load<f32>(pa + 2 * sai4) * b0;
      x3 += load<f32>(pa + 3 * sai4) * b0;
      pa += sak4;
      pb += ldb4;
    }
    store<f32>(c + o, x0);
    store<f32>(c1 + o, x1);
    store<f32>(c2 + o, x2);
    store<f32>(c3 + o, x3);
  }
}

function row1(N: i32, K: i32, a: usize, sak4: usize, b: usize, ldb4: usize, c: usize, acc: i32): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    let x0 = start(c + o, acc);
    let pa = a;
    let pb = b + o;
    for (let k = 0; k < K; k++) {
      x0 = f32x4.add(x0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
      pa += sak4;
      pb += ldb4;
    }
    v128.store(c + o, x0);
  }
  for (; j < N; j++) {
    const o = <usize>j << 2;
    let x0: f32 = acc ? load<f32>(c + o) : 0;
    let pa = a;
    let pb = b + o;
    for (let k = 0; k < K; k++) {
      x0 += load<f32>(pa) * load<f32>(pb);
      pa += sak4;
      pb += ldb4;
    }
    store<f32>(c + o, x0);
  }
}
