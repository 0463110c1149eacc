import type { DatasetMeta } from '../../src/ml/dataset.js';
import { loadPredictor } from '../../src/ml/predict.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { DriftMonitor } from '../../src/serve/drift.js';
import type { ServedModel, ServingPredictor } from '../../src/serve/model-slot.js';
import { makeMeta, stageContext, writeFixtureDataset } from '../ml/fixtures.js';

/** A multiclass tabular meta (f0..f3, training stats mean 0 / std 0.5; f3 optional, filled with 0) for fixture models. */
export function tabularMeta(): DatasetMeta {
  const meta = makeMeta({ task: 'multiclass', features: 4 });
  meta.features = meta.features.map((f) => ({ ...f, stats: { mean: 0, std: 0.5, min: -1, max: 1 }, ...(f.name === 'f3' ? { fill: 0 } : {}) }));
  return meta;
}

/** A binary text meta: whitespace tokens w0..w9, label c1 when w0 appears. */
export function textMeta(): DatasetMeta {
  return makeMeta({ task: 'binary', kind: 'text', vocab: 12, maxLength: 5 });
}

/** Trains a small model on a synthetic dataset (cpu backend, a second or so); returns its folder. */
export async function trainFixtureModel(meta: DatasetMeta, seed = 42): Promise<string> {
  const data = await writeFixtureDataset(meta, { train: 60, test: 20 });
  const model = meta.inputKind === 'text' ? { layers: [{ type: 'embedding', output_dim: 4 }, { type: 'global_avg_pooling1d' }, { type: 'dense', units: 1, activation: 'sigmoid' }] } : 'logistic_regression';
  const rec = await stageContext<TrainConfig>(train, { data, model, optimizer: { name: 'adam', learning_rate: 0.05 }, epochs: 3, batch_size: 16, seed });
  await train.run(rec.ctx);
  return rec.ctx.outputs.model!;
}

/** A loaded version ready for a ModelSlot. */
export async function servedModel(dir: string, version = 1, name = 'fixture'): Promise<ServedModel> {
  const predictor = await loadPredictor(dir, { backend: 'cpu' });
  return { name, version, dir, predictor, drift: new DriftMonitor(predictor.meta.dataset), loadedAt: Date.now() };
}

/** A predictor whose answers the test releases by hand; it records every call. */
export function manualPredictor(meta: ServingPredictor['meta']): ServingPredictor & { calls: number; disposed: boolean; release(): void; called: Promise<void> } {
  let release!: () => void;
  let signalCalled!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const called = new Promise<void>((r) => (signalCalled = r));
  const p = {
    meta,
    backend: 'fake',
    calls: 0,
    disposed: false,
    called,
    release: () => release(),
    async predict(rows: Record<string, unknown>[]) {
      p.calls++;
      signalCalled();
      await gate;
      return rows.map(() => ({ label: 'c0', probabilities: { c0: 1, c1: 0, c2: 0 } }));
    },
    dispose() {
      p.disposed = true;
    },
  };
  return p;
}
