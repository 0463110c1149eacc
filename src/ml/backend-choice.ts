/** `--backend` / MLPIPE_BACKEND: where TensorFlow.js computes. A leaf, so commands can list the choices without loading the engine. */
export const backendChoices = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];
