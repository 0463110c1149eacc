import { UserError } from '../errors.js';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { registerChainedOps } from './kernels/chained-ops.js';
import { fusedConvLayerClasses } from './kernels/fused-conv-layer.js';
import { fusedDenseLayerClass } from './kernels/fused-dense-layer.js';
import { fusedLstmLayerClass } from './kernels/fused-lstm-layer.js';
import { registerMlpipeKernels } from './kernels/register.js';

import type { Tf } from './kernels/tf.js';

export type { Tf };

/** A TensorFlow.js instance whose active backend is `backend`. */
export interface LoadedTf {
  tf: Tf;
  /** The TensorFlow.js backend name: `tensorflow`, `wasm` or `cpu`. */
  backend: string;
  /** Where the backend comes from, e.g. `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-backend-wasm`. */
  source: string;
  /** Why `auto` skipped the backends before this one; empty for an explicit choice. */
  skipped: string[];
  /** Kernels mlpipe registered on this backend. */
  kernels: string[];
}

import { backendChoices, type BackendChoice } from './backend-choice.js';

export { backendChoices, type BackendChoice };

/** A requested backend cannot be started. */
export class BackendUnavailableError extends UserError {
  constructor(
    message: string,
    readonly choice: BackendChoice,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/** `choice` when given, else `MLPIPE_BACKEND`, else `auto`; an unknown name is an error. */
export function resolveBackendChoice(choice?: string, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const value = choice ?? env.MLPIPE_BACKEND ?? 'auto';
  if (!(backendChoices as readonly string[]).includes(value)) {
    throw new BackendUnavailableError(
      `unknown backend "${value}": expected one of ${backendChoices.join(', ')} (flag --backend or env MLPIPE_BACKEND)`,
      'auto',
    );
  }
  return value as BackendChoice;
}

const nodePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
const require = createRequire(import.meta.url);

let jsTf: Promise<Tf> | undefined;
let wasmInit: Promise<void> | undefined;
let nativeTf: Promise<{ tf: Tf; source: string } | { error: string }> | undefined;
const loaded = new Map<BackendChoice, Promise<LoadedTf>>();

/**
 * TensorFlow.js's packages are CommonJS: `require` loads them without the ES module loader's scan
 * of their multi-megabyte files for export names (`import()` of them cost some 200 ms of CPU at
 * each start that loads them, a quarter of a one-row `mlpipe predict`).
 */
async function importJsTf(): Promise<Tf> {
  const core = require('@tensorflow/tfjs-core') as Parameters<typeof registerChainedOps>[0];
  core.enableProdMode();
  registerChainedOps(core);
  require('@tensorflow/tfjs-backend-cpu');
  const layers = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
  return Object.assign({}, core, layers) as unknown as Tf;
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

async function importNativeTf(): Promise<{ tf: Tf; source: string } | { error: string }> {
  const failures: string[] = [];
  for (const name of nodePackages) {
    const specifier: string = name;
    if (!isInstalled(name)) {
      failures.push(`${name} not installed`);
      continue;
    }
    try {
      const mod = (await import(specifier)) as Tf & { default?: Tf };
      const tf = typeof mod.setBackend === 'function' ? mod : mod.default!;
      tf.enableProdMode();
      return { tf, source: name };
    } catch (err) {
      const code = (err as { code?: string }).code;
      failures.push(code === 'ERR_MODULE_NOT_FOUND' ? `${name} not installed` : `${name} failed to load (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return { error: failures.join('; ') };
}

async function activate(tf: Tf, name: string, choice: BackendChoice): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new BackendUnavailableError(`the ${name} backend failed to start: ${(err as Error).message}`, choice, { cause: err });
  }
  if (!ok) throw new BackendUnavailableError(`the ${name} backend failed to start`, choice);
}

async function startJs(name: 'wasm' | 'cpu', choice: BackendChoice): Promise<Tf> {
  jsTf ??= importJsTf();
  const tf = await jsTf;
  if (name === 'wasm') {
    wasmInit ??= (async () => {
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    })();
    await wasmInit;
  }
  await activate(tf, name, choice);
  return tf;
}

async function startNative(choice: BackendChoice): Promise<{ tf: Tf; source: string }> {
  nativeTf ??= importNativeTf();
  const native = await nativeTf;
  if ('error' in native) {
    throw new BackendUnavailableError(
      `the tensorflow backend is not available: ${native.error}. Install it with \`npm install @tensorflow/tfjs-node\` (or @tensorflow/tfjs-node-gpu with CUDA), or choose --backend wasm`,
      choice,
    );
  }
  await activate(native.tf, 'tensorflow', choice);
  return native;
}

async function load(choice: BackendChoice): Promise<LoadedTf> {
  const finish = (tf: Tf, backend: string, source: string, skipped: string[]): LoadedTf => {
    fusedLstmLayerClass(tf);
    fusedDenseLayerClass(tf);
    fusedConvLayerClasses(tf);
    return { tf, backend, source, skipped, kernels: registerMlpipeKernels(tf, backend) };
  };
  if (choice === 'tensorflow') {
    const native = await startNative(choice);
    return finish(native.tf, 'tensorflow', native.source, []);
  }
  if (choice === 'wasm' || choice === 'cpu') {
    const tf = await startJs(choice, choice);
    return finish(tf, choice, `@tensorflow/tfjs-backend-${choice}`, []);
  }
  const skipped: string[] = [];
  try {
    const native = await startNative(choice);
    return finish(native.tf, 'tensorflow', native.source, skipped);
  } catch (err) {
    skipped.push((err as Error).message.replace(/\. Install it.*$/, ''));
  }
  try {
    const tf = await startJs('wasm', choice);
    return finish(tf, 'wasm', '@tensorflow/tfjs-backend-wasm', skipped);
  } catch (err) {
    skipped.push((err as Error).message);
  }
  const tf = await startJs('cpu', choice);
  return finish(tf, 'cpu', '@tensorflow/tfjs-backend-cpu', skipped);
}

/**
 * Loads TensorFlow.js lazily and makes the chosen backend active (default: `MLPIPE_BACKEND`, else
 * `auto`). `auto` tries
 * `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` (optional peers), the WebAssembly backend,
 * then plain JS. Cached per process and choice; a later call with another choice switches the
 * active backend, so run one backend at a time.
 */
export async function loadTf(requested?: string): Promise<LoadedTf> {
  const choice = resolveBackendChoice(requested);
  let pending = loaded.get(choice);
  if (pending === undefined) {
    pending = load(choice);
    loaded.set(choice, pending);
    pending.catch(() => loaded.delete(choice));
  }
  const result = await pending;
  if (result.tf.getBackend() !== result.backend) await activate(result.tf, result.backend, choice);
  return result;
}

/** One line for logs: `backend: wasm (@tensorflow/tfjs-backend-wasm; @tensorflow/tfjs-node not installed)`. */
export function describeBackend(loadedTf: LoadedTf): string {
  const details = [loadedTf.source, ...loadedTf.skipped];
  return `backend: ${loadedTf.backend} (${details.join('; ')})`;
}
