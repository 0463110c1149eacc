import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, describeBackend, loadTf, resolveBackendChoice } from '../../src/ml/backend.js';

const require = createRequire(import.meta.url);
const nativeInstalled = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
});

describe('backend selection', () => {
  it('resolves the choice from the flag, then MLPIPE_BACKEND, then auto; rejects unknown names', () => {
    expect(resolveBackendChoice('cpu', { MLPIPE_BACKEND: 'wasm' })).toBe('cpu');
    expect(resolveBackendChoice(undefined, { MLPIPE_BACKEND: 'wasm' })).toBe('wasm');
    expect(resolveBackendChoice(undefined, {})).toBe('auto');
    expect(() => resolveBackendChoice('gpu', {})).toThrow('unknown backend "gpu": expected one of auto, tensorflow, wasm, cpu (flag --backend or env MLPIPE_BACKEND)');
  });

  it.skipIf(nativeInstalled)('tensorflow without @tensorflow/tfjs-node installed is a clear error; auto falls back to wasm and says why', async () => {
    const error = await loadTf('tensorflow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toBe(
      'the tensorflow backend is not available: @tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node not installed. Install it with `npm install @tensorflow/tfjs-node` (or @tensorflow/tfjs-node-gpu with CUDA), or choose --backend wasm',
    );
    const auto = await loadTf('auto');
    expect(auto.backend).toBe('wasm');
    expect(auto.tf.getBackend()).toBe('wasm');
    expect(describeBackend(auto)).toBe(
      'backend: wasm (@tensorflow/tfjs-backend-wasm; the tensorflow backend is not available: @tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node not installed)',
    );
    expect(auto.kernels).toEqual(expect.arrayContaining(['UnsortedSegmentSum', 'MlpipeLstmForward', 'MlpipeLstmBackward']));
  });

  it('switches the active backend between cached choices', async () => {
    const cpu = await loadTf('cpu');
    expect(cpu.tf.getBackend()).toBe('cpu');
    const wasm = await loadTf('wasm');
    expect(wasm.tf.getBackend()).toBe('wasm');
    expect(wasm.tf).toBe(cpu.tf);
    expect((await loadTf('cpu')).tf.getBackend()).toBe('cpu');
  });
});
