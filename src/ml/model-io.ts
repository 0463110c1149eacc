import { UserError } from '../errors.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { io } from '@tensorflow/tfjs-core';
import type { Tf } from './backend.js';
import type { OutputKind } from './build-model.js';
import { stableStringify, type DatasetMeta, type Task } from './dataset.js';
import type { LossName } from './model-config.js';
import type { TargetScale } from './target-scaling.js';

/** File names inside a saved model folder. */
export const MODEL_FILES = { topology: 'model.json', weights: 'weights.bin', meta: 'mlpipe.json' } as const;

/**
 * `mlpipe.json` beside `model.json`: what is needed to score raw input (the dataset meta with its
 * encoders, vocabulary and labels) and to read the model's output.
 */
export interface ModelMeta {
  schemaVersion: 1;
  task: Task;
  /** sigmoid: one unit, P(class 1); softmax: one unit per class; linear: the regression value. */
  output: { kind: OutputKind; units: number };
  loss: LossName;
  inputShape: number[];
  inputDtype: 'float32' | 'int32';
  /** Regression: the model predicts `(y - shift) / scale`; predictions are mapped back. Absent: the output is the value. */
  targetScale?: TargetScale;
  /** Class index → label (classification). */
  labels?: string[];
  /** Multi-input models: which columns of a dataset row each model input takes (token ids as int32), in model input order. */
  inputs?: { name: string; offset: number; width: number; dtype: 'float32' | 'int32' }[];
  /** Several targets: one model output each, in order (`task`, `output`, `labels`, `targetScale` above repeat the first). */
  outputs?: ModelOutputMeta[];
  /** The training dataset's meta (features, statistics, vocabulary…), for `transformRows`. */
  dataset: DatasetMeta;
  /** The backend the model was trained on. */
  backend: string;
  seed: number;
  /** Where training started from (`train.init_from`), absent for a cold start. */
  initFrom?: InitFrom;
  /** Set when a deploy quantized the weights (`deploy.quantize`); they are dequantized on load. */
  quantization?: 'float16' | 'uint8';
}

/** The model a warm-started training began from: the reference as written, what it resolved to, and the digest of its files. */
export interface InitFrom {
  ref: string;
  /** The registered version, for a registry reference. */
  registered?: { name: string; version: number };
  /** The run and stage that made the files. */
  producedBy: { run: string; stage: string };
  digest: string;
  /** Layers kept fixed (`train.freeze`), by name. */
  frozen: string[];
}

/** One output of a multi-target model: what `task`, `output`, `loss`, `labels` and `targetScale` say for a single one. */
export interface ModelOutputMeta {
  name: string;
  task: Task;
  output: { kind: OutputKind; units: number };
  loss: LossName;
  labels?: string[];
  targetScale?: TargetScale;
}

/** A model folder that is missing files or whose files do not parse. */
export class ModelLoadError extends UserError {
  constructor(
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot load the model in ${dir}: ${reason}\n  hint: point at a train stage's \`model\` output (a folder with ${MODEL_FILES.topology}, ${MODEL_FILES.weights} and ${MODEL_FILES.meta})`, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * Writes `model.json` (TensorFlow.js layers format), `weights.bin` and `mlpipe.json` into `dir`,
 * through an in-memory save handler so it works on every backend. Files are byte-identical for
 * identical weights.
 */
export async function saveModel(tf: Tf, model: LayersModel, dir: string, meta: ModelMeta): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts: io.ModelArtifacts) => {
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: [MODEL_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, MODEL_FILES.weights), new Uint8Array(weightData));
      await writeFile(join(dir, MODEL_FILES.topology), `${stableStringify(json)}\n`);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  await writeFile(join(dir, MODEL_FILES.meta), `${stableStringify(meta)}\n`);
}

async function readText(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    throw new ModelLoadError(dir, `${file} is missing or unreadable`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ModelLoadError(dir, `${file} is not valid JSON`, { cause });
  }
}

export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const meta = (await readText(dir, MODEL_FILES.meta)) as ModelMeta;
  if (meta?.schemaVersion !== 1) throw new ModelLoadError(dir, `${MODEL_FILES.meta} has schemaVersion ${String(meta?.schemaVersion)}, expected 1`);
  return meta;
}

/** Loads a folder written by `saveModel` onto the active backend. */
export async function loadModel(tf: Tf, dir: string): Promise<{ model: LayersModel; meta: ModelMeta }> {
  const meta = await readModelMeta(dir);
  const json = (await readText(dir, MODEL_FILES.topology)) as io.ModelJSON;
  const manifest = json.weightsManifest ?? [];
  const weightSpecs: io.WeightsManifestEntry[] = manifest.flatMap((group) => group.weights);
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      try {
        buffers.push(await readFile(join(dir, path)));
      } catch (cause) {
        throw new ModelLoadError(dir, `weights file ${path} is missing or unreadable`, { cause });
      }
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  try {
    const model = await quietly(() => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData })));
    return { model, meta };
  } catch (cause) {
    throw new ModelLoadError(dir, `TensorFlow.js rejected it (${(cause as Error).message})`, { cause });
  }
}

/** Runs `fn` without tfjs-layers' "Orthogonal initializer … Slowness may result" console warning (weights are overwritten on load). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Orthogonal initializer')) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}
