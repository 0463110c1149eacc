import type { ModelLookup, ModelVersion } from '../../core/tracker/types.js';
import { readModelMeta, type ModelMeta } from '../../ml/model-io.js';
import { isMlpipeModel, modelDir, resolveModel } from './resolve-model.js';
import { hashPath } from '../../core/hash/hash-path.js';
import { StatCache } from '../../core/hash/stat-cache.js';
import type { ModelRef } from './model-ref.js';

const KEY_METRICS = ['accuracy', 'f1', 'auc', 'log_loss', 'r2', 'rmse', 'mae', 'mse', 'loss'];
const MAX_KEY_METRICS = 3;

/** One row of `mlpipe models list`. */
export interface ModelListItem {
  name: string;
  version: number;
  aliases: string[];
  /** The run that registered it. */
  runId: string;
  /** Up to three headline metrics (accuracy, f1, auc … or r2, rmse …) by their bare names. */
  keyMetrics: Record<string, number>;
  createdAt: number;
  description: string | null;
}

/** What the model takes as input, read from its `mlpipe.json`. */
export interface ModelSignature {
  task: ModelMeta['task'];
  inputKind: 'tabular' | 'text' | 'image' | 'multi';
  /** Tabular: the raw columns a request row needs, in model order. */
  features: { name: string; type: 'numeric' | 'categorical' | 'date' | 'array'; optional: boolean }[];
  /** Text: the column holding the text (a request may also send bare strings). */
  textColumn?: string;
  /** Multi-input: every text column a request row needs (beside `features`). */
  textColumns?: string[];
  labels?: string[];
  /** Several targets: each with its task and labels; a prediction has one entry per target under `outputs`. */
  targets?: { name: string; task: ModelMeta['task']; labels?: string[] }[];
  trainedOn: string;
  /** How the weights are stored: float32, or the quantization a deploy applied (`deploy.quantize`). */
  weights: 'float32' | 'float16' | 'uint8';
  /** Where training started (`train.init_from`): the reference, what it resolved to, the digest; absent for a cold start. */
  initFrom?: ModelMeta['initFrom'];
  /** A request body that the model accepts, built from the training statistics. */
  exampleRequest: { instances: Record<string, unknown>[] };
}

/** `mlpipe models show`. */
export interface ModelDetails extends ModelVersion {
  schemaVersion: 1;
  description: string | null;
  /** Where its files are now. */
  dir: string;
  /** `mlpipe`: written by the train stage (serve and predict load it); `files`: another format (e.g. a shell stage's), which mlpipe only keeps. */
  format: 'mlpipe' | 'files';
  /** What it takes as input; null for `files`. */
  signature: ModelSignature | null;
  /** Its files (path relative to the version's folder, '' for a single file; size in bytes). */
  files: { path: string; size: number }[];
  /** Whether the files still hash to the digest registered. */
  verified: boolean;
}

/** The headline metrics of a registered version. */
export function keyMetrics(metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of KEY_METRICS) {
    if (Object.keys(out).length === MAX_KEY_METRICS) break;
    if (typeof metrics[k] === 'number') out[k] = metrics[k];
  }
  return out;
}

/** Registered versions (of one model, or all), newest first within a name, names in order. */
export async function listModelItems(registry: ModelLookup, name?: string): Promise<ModelListItem[]> {
  return (await registry.listModels(name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : b.version - a.version))
    .map((m) => ({ name: m.name, version: m.version, aliases: m.aliases, runId: m.runId, keyMetrics: keyMetrics(m.metrics), createdAt: m.createdAt, description: m.description ?? null }));
}

/** A row a model accepts: numeric features at their training mean, categories at their fill or first value, a short text. */
export function exampleRow(meta: ModelMeta): Record<string, unknown> {
  const ds = meta.dataset;
  const sampleText = (t: { vocab: string[] }) => t.vocab.slice(2, 6).join(' ') || 'hello';
  if (ds.inputKind === 'text') return { [ds.text!.column]: sampleText(ds.text!) };
  const texts = (ds.inputs ?? []).flatMap((b) => (b.text ? [[b.text.column, sampleText(b.text)] as const] : []));
  return Object.fromEntries([
    ...texts,
    ...ds.features.map((f) => [f.name, f.type === 'numeric' ? Number((f.stats?.mean ?? 0).toPrecision(4)) : f.type === 'date' ? (f.fill ?? '2024-01-01') : f.type === 'array' ? new Array<number>(f.length ?? 0).fill(Number((f.stats?.mean ?? 0).toPrecision(4))) : (f.fill ?? f.categories?.[0] ?? '')] as const),
  ]);
}

export function signatureOf(meta: ModelMeta): ModelSignature {
  const ds = meta.dataset;
  return {
    task: meta.task,
    inputKind: ds.inputKind,
    features: ds.features.map((f) => ({ name: f.name, type: f.type, optional: f.fill !== undefined })),
    ...(ds.text ? { textColumn: ds.text.column } : {}),
    ...(ds.inputs ? { textColumns: ds.inputs.flatMap((b) => (b.text ? [b.text.column] : [])) } : {}),
    ...(meta.labels ? { labels: meta.labels } : {}),
    ...(ds.targets ? { targets: ds.targets.map((t) => ({ name: t.name, task: t.task, ...(t.labels ? { labels: t.labels } : {}) })) } : {}),
    trainedOn: meta.backend,
    weights: meta.quantization ?? 'float32',
    ...(meta.initFrom ? { initFrom: meta.initFrom } : {}),
    exampleRequest: { instances: [exampleRow(meta)] },
  };
}

/** Everything about one registered version: its files (checked against the registered digest) and, for an mlpipe model, what its input looks like. */
export async function showModel(registry: ModelLookup, runsDir: string, ref: ModelRef): Promise<ModelDetails> {
  const model = await resolveModel(registry, ref);
  const dir = modelDir(runsDir, model);
  const hashed = await hashPath(dir, await StatCache.open(runsDir));
  const files = hashed.files.map((f) => ({ path: f.path, size: f.size }));
  const format = isMlpipeModel(dir) ? 'mlpipe' : 'files';
  const signature = format === 'mlpipe' ? signatureOf(await readModelMeta(dir)) : null;
  return { schemaVersion: 1, ...model, description: model.description ?? null, dir, format, signature, files, verified: hashed.digest === model.artifactHash };
}
