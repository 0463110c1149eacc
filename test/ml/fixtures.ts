import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelLookup } from '../../src/core/tracker/types.js';
import { validateField, type FieldIssue } from '../../src/schema/validate-fields.js';
import type { StageContext, StageKind } from '../../src/core/stage-kind.js';
import type { BackendChoice } from '../../src/ml/backend.js';
import { writeDataset, type Dataset, type DatasetMeta, type SplitData, type Task } from '../../src/ml/dataset.js';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A dataset meta for tests: tabular with `features` numeric columns, or text with a vocabulary of `vocab` tokens. */
export function makeMeta(o: { task: Task; kind?: 'tabular' | 'text'; features?: number; vocab?: number; maxLength?: number; classes?: number }): DatasetMeta {
  const kind = o.kind ?? 'tabular';
  const classes = o.task === 'binary' ? 2 : o.task === 'multiclass' ? (o.classes ?? 3) : 0;
  const features = kind === 'tabular' ? Array.from({ length: o.features ?? 4 }, (_, i) => `f${i}`) : [];
  const maxLength = o.maxLength ?? 6;
  return {
    schemaVersion: 1,
    task: o.task,
    target: 'label',
    ...(classes ? { labels: Array.from({ length: classes }, (_, i) => `c${i}`) } : {}),
    inputKind: kind,
    features: features.map((name) => ({ name, type: 'numeric' as const, encoding: 'none' as const })),
    ...(kind === 'text'
      ? { text: { column: 'text', tokenizer: 'whitespace' as const, lowercase: true, vocab: ['<pad>', '<oov>', ...Array.from({ length: (o.vocab ?? 12) - 2 }, (_, i) => `w${i}`)], maxLength, padding: 'post' as const, truncating: 'post' as const } }
      : {}),
    featureNames: features,
    splits: {},
    source: { file: 'fixture.csv', rows: 0, dropped: 0 },
  };
}

/**
 * A learnable synthetic split. Tabular: y depends on the first two features. Text: label 1 when token
 * w0 appears. Regression: y = 2·f0 − f1 + noise.
 */
export function makeSplit(meta: DatasetMeta, n: number, seed: number): SplitData {
  const rand = lcg(seed);
  const y = new Float32Array(n);
  if (meta.inputKind === 'text') {
    const len = meta.text!.maxLength;
    const vocab = meta.text!.vocab.length;
    const x = new Int32Array(n * len);
    for (let i = 0; i < n; i++) {
      const positive = rand() < 0.5;
      for (let t = 0; t < len; t++) x[i * len + t] = 3 + Math.floor(rand() * (vocab - 3));
      if (positive) x[i * len + Math.floor(rand() * len)] = 2;
      y[i] = positive ? 1 : 0;
    }
    return { n, x, xShape: [n, len], y };
  }
  const d = meta.featureNames.length;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rand() * 2 - 1;
    const a = x[i * d]!;
    const b = x[i * d + 1]!;
    if (meta.task === 'regression') y[i] = 2 * a - b + (rand() - 0.5) * 0.1;
    else if (meta.task === 'binary') y[i] = a + b > 0 ? 1 : 0;
    else y[i] = a > 0.3 ? 2 : a + b > 0 ? 1 : 0;
  }
  return { n, x, xShape: [n, d], y };
}

/** Writes a dataset folder with the given split sizes to a fresh temp folder; returns its path. */
export async function writeFixtureDataset(meta: DatasetMeta, sizes: Partial<Record<'train' | 'validation' | 'test', number>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-ds-'));
  const splits: Dataset['splits'] = {};
  let seed = 11;
  for (const [name, n] of Object.entries(sizes)) splits[name as 'train'] = makeSplit(meta, n!, seed++);
  await writeDataset(dir, { meta, splits });
  return dir;
}

export interface RecordedContext<C> {
  ctx: StageContext<C>;
  logs: string[];
  progress: string[];
  metrics: { key: string; value: number; step?: number }[];
}

/** A StageContext for calling a stage kind's `run` directly: config validated with defaults applied, outputs in a temp folder. */
export async function stageContext<C>(kind: StageKind<C>, config: Record<string, unknown>, backend: BackendChoice = 'cpu'): Promise<RecordedContext<C>> {
  const issues: FieldIssue[] = [];
  const resolved = validateField(config, kind.config, issues) as C;
  if (issues.length > 0) throw new Error(`invalid test config: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const outDir = await mkdtemp(join(tmpdir(), 'mlpipe-stage-'));
  const outputs = Object.fromEntries(Object.entries(kind.outputs(resolved)).map(([name, spec]) => [name, join(outDir, spec.path)]));
  const logs: string[] = [];
  const progress: string[] = [];
  const metrics: { key: string; value: number; step?: number }[] = [];
  const ctx: StageContext<C> = {
    stage: kind.kind,
    config: resolved,
    workspace: outDir,
    outDir,
    outputs,
    runId: 'r-test',
    runsDir: outDir,
    signal: new AbortController().signal,
    log: (line) => logs.push(line),
    progress: (message) => progress.push(message),
    logMetric: (key, value, step) => metrics.push(step === undefined ? { key, value } : { key, value, step }),
    upstreamMetrics: {},
    models: {} as ModelLookup,
    backend,
  };
  return { ctx, logs, progress, metrics };
}
