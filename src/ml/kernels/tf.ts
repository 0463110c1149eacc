/** TensorFlow.js core and layers APIs as one namespace (what `@tensorflow/tfjs` exports). A type-only leaf: kernels use it without importing the loader. */
export type Tf = typeof import('@tensorflow/tfjs-core') & typeof import('@tensorflow/tfjs-layers');
