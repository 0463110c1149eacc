import type { KernelConfig } from '@tensorflow/tfjs-core';
import { unsortedSegmentSumKernels } from './unsorted-segment-sum.js';

/** The kernel registry functions of a TensorFlow.js instance. */
export interface KernelRegistry {
  getKernel(kernelName: string, backendName: string): KernelConfig | undefined;
  registerKernel(config: KernelConfig): void;
  unregisterKernel(kernelName: string, backendName: string): void;
}

const kernelSets: Record<string, KernelConfig>[] = [unsortedSegmentSumKernels];

/**
 * Registers mlpipe's kernels for `backend` (replacing a slower stock kernel of the same name).
 * Idempotent; returns the names of the kernels now provided by mlpipe on that backend.
 */
export function registerMlpipeKernels(tf: KernelRegistry, backend: string): string[] {
  const names: string[] = [];
  for (const set of kernelSets) {
    const config = set[backend];
    if (config === undefined) continue;
    const current = tf.getKernel(config.kernelName, backend);
    if (current?.kernelFunc !== config.kernelFunc) {
      if (current !== undefined) tf.unregisterKernel(config.kernelName, backend);
      tf.registerKernel(config);
    }
    names.push(config.kernelName);
  }
  return names;
}
