import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simdKernels } from '../../src/ml/kernels/simd/simd-module.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { compileSimd, generatedPath, generatedSource } from '../../scripts/build-simd.mjs';
import { lcg } from './fixtures.js';

/** A fresh memory with the kernels on it, and a bump allocator of float arrays in it. */
function arena() {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const k = simdKernels(memory)!;
  let next = 64; // keep address 0 unused
  const put = (values: Float32Array | number): { ptr: number; view: () => Float32Array } => {
    const n = typeof values === 'number' ? values : values.length;
    const ptr = next;
    next += 4 * n + 16;
    const view = () => new Float32Array(memory.buffer, ptr, n);
    if (typeof values !== 'number') view().set(values);
    return { ptr, view };
  };
  return { k, put };
}

const rand = (n: number, seed: number) => {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};

describe('SIMD kernels module', () => {
  it('is the binary compiled from assembly/simd/ (run node scripts/build-simd.mjs after changing it)', async () => {
    const bytes = (await compileSimd()) as Uint8Array;
    expect(readFileSync(generatedPath as string, 'utf8')).toBe(generatedSource(bytes));
  }, 60_000);

  // Shapes around the 4×8 blocks: remainders of rows, of 8 and of 4 columns, and K = 1.
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [4, 8, 1], [5, 13, 7], [9, 20, 3], [7, 3, 33], [12, 36, 5]];
  for (const [M, N, K] of shapes) {
    for (const transposedA of [false, true]) {
      it(`gemm matches a naive product for M ${M}, N ${N}, K ${K}${transposedA ? ', A transposed' : ''}, into a wider C, set and accumulated`, () => {
        const { k, put } = arena();
        const a = rand(M * K, M + 10 * N + 100 * K);
        const b = rand(K * N, 7);
        const ldc = N + 3;
        const c0 = rand(M * ldc, 9);
        const A = put(a);
        const B = put(b);
        // A(i, k): row-major [M×K], or the transpose of a row-major [K×M].
        const aAt = (i: number, p: number) => (transposedA ? a[p * M + i]! : a[i * K + p]!);
        for (const acc of [0, 1]) {
          const C = put(c0);
          k.gemm(M, N, K, A.ptr, transposedA ? 1 : K, transposedA ? M : 1, B.ptr, N, C.ptr, ldc, acc);
          const got = C.view();
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < ldc; j++) {
              if (j >= N) {
                expect(got[i * ldc + j]).toBe(c0[i * ldc + j]); // outside the product: untouched
                continue;
              }
              let s = acc ? c0[i * ldc + j]! : 0;
              for (let p = 0; p < K; p++) s += aAt(i, p) * b[p * N + j]!;
              expect(got[i * ldc + j]).toBeCloseTo(s, 5);
            }
          }
        }
      });
    }
  }

  it('adam matches the formula on every element, the tail after the last 4 lanes included', () => {
    const { k, put } = arena();
    const n = 11;
    const w0 = rand(n, 1);
    const g = rand(n, 2);
    const m0 = rand(n, 3).map((x) => x * 0.1);
    const v0 = rand(n, 4).map((x) => x * x);
    const W = put(w0);
    const G = put(g);
    const MV = put(Float32Array.from([...m0, ...v0]));
    const [b1, b2, step, c2, eps] = [0.9, 0.999, 0.01, 3, 1e-7];
    k.adam(W.ptr, G.ptr, MV.ptr, MV.ptr + 4 * n, n, b1, b2, step, c2, eps);
    const mv = MV.view();
    for (let i = 0; i < n; i++) {
      const m = b1 * m0[i]! + (1 - b1) * g[i]!;
      const v = b2 * v0[i]! + (1 - b2) * g[i]! * g[i]!;
      expect(mv[i]).toBeCloseTo(m, 6);
      expect(mv[n + i]).toBeCloseTo(v, 6);
      expect(W.view()[i]).toBeCloseTo(w0[i]! - (step * m) / (Math.sqrt(v * c2) + eps), 6);
    }
  });

  it('columnSums adds the rows of a matrix whose width is not a multiple of 4', () => {
    const { k, put } = arena();
    const m = rand(5 * 7, 5);
    const M = put(m);
    const out = put(7);
    k.columnSums(M.ptr, 5, 7, out.ptr);
    for (let c = 0; c < 7; c++) expect(out.view()[c]).toBeCloseTo([0, 1, 2, 3, 4].reduce((s, r) => s + m[r * 7 + c]!, 0), 6);
  });
});
