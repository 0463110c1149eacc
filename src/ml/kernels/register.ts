import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { Tf } from './tf.js';
import { broadcastBinaryKernels } from './broadcast-binary.js';
import { convBackpropFilterKernels } from './conv-backprop-filter.js';
import { convBackpropInputKernels } from './conv-backprop-input.js';
import { fusedConvKernels } from './fused-conv.js';
import { fusedDenseKernels } from './fused-dense.js';
import { fusedLstmKernels } from './fused-lstm.js';
import { gatherKernels } from './gather.js';
import { identityKernels } from './identity.js';
import { matMulKernels } from './matmul.js';
import { maxPoolGradKernels } from './max-pool-grad.js';
import { maxReduceGradKernels, registerMaxReduceGradient } from './max-reduce-grad.js';
import { sliceKernels } from './slice.js';
import { unsortedSegmentSumKernels } from './unsorted-segment-sum.js';

type KernelSource = (tf: Tf) => Record<string, KernelConfig[]>;

const sources: KernelSource[] = [
  () => Object.fromEntries(Object.entries(unsortedSegmentSumKernels).map(([backend, config]) => [backend, [config]])),
  sliceKernels,
  gatherKernels,
  identityKernels,
  matMulKernels,
  fusedLstmKernels,
  fusedDenseKernels,
  fusedConvKernels,
  convBackpropFilterKernels,
  convBackpropInputKernels,
  broadcastBinaryKernels,
  maxPoolGradKernels,
  maxReduceGradKernels,
];

const built = new WeakMap<Tf, Map<string, KernelConfig[]>>();

/** Built once per backend, after the backend's own kernels are registered (some wrap a stock kernel). */
function kernelsOf(tf: Tf, backend: string): KernelConfig[] {
  let byBackend = built.get(tf);
  if (!byBackend) built.set(tf, (byBackend = new Map()));
  let configs = byBackend.get(backend);
  if (!configs) {
    configs = sources.flatMap((source) => source(tf)[backend] ?? []);
    byBackend.set(backend, configs);
  }
  return configs;
}

/**
 * Registers mlpipe's kernels for `backend` (replacing slower stock kernels of the same name).
 * Idempotent; returns the names of the kernels now provided by mlpipe on that backend.
 */
export function registerMlpipeKernels(tf: Tf, backend: string): string[] {
  registerMaxReduceGradient(tf);
  const configs = kernelsOf(tf, backend);
  for (const config of configs) {
    const current = tf.getKernel(config.kernelName, backend);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel(config);
  }
  return configs.map((c) => c.kernelName);
}
