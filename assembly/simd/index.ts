// The SIMD kernels module (src/ml/kernels/simd/simd-module.ts loads it into tfjs-wasm's memory).
// Regenerate the embedded binary with `node scripts/build-simd.mjs` after changing these files.
export { gemm } from './gemm';
export { lstmForward, lstmBackward, lstmBackwardScratch, columnSums } from './lstm';
export { adam } from './adam';
