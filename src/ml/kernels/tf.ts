/** TensorFlow.js core and layers APIs as one namespace (what `@tensorflow/tfjs` exports). A type-only leaf in kernels/ (kernels import nothing of ml/ above them; backend.ts, the loader, re-exports it). */
export type Tf = typeof import('@tensorflow/tfjs-core') & typeof import('@tensorflow/tfjs-layers');
