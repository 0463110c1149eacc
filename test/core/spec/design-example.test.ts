import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../../src/render/diagnostics.js';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { stageKinds } from '../../../src/stages/index.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

/** DESIGN.md section 3, with the placeholders inside `{ … }` quoted as YAML requires. */
const DESIGN_EXAMPLE = `name: sentiment
params:                      # defaults; --set params.lr=… and a params file override them
  lr: 0.001
  epochs: 10
stages:
  prepare:
    uses: preprocess
    with:
      input: data/reviews.csv            # csv, tsv, jsonl, json array
      target: label
      text: { column: text, tokenizer: word, vocab_size: 10000, max_length: 64 }
      split: { test: 0.2, validation: 0.1, seed: 42, stratify: true }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model:
        layers:
          - { type: embedding, output_dim: 16 }
          - { type: lstm, units: 32 }
          - { type: dense, units: 1, activation: sigmoid }
      optimizer: { name: adam, learning_rate: "\${params.lr}" }
      loss: binary_crossentropy
      epochs: \${params.epochs}
      batch_size: 32
      early_stopping: { monitor: val_loss, patience: 3 }
      seed: 42
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.model}
      data: \${stages.prepare.outputs.dataset}
      metrics: [accuracy, precision, recall, f1, auc]
  deploy:
    uses: deploy
    with:
      model: \${stages.train.outputs.model}
      name: sentiment
      gate: "accuracy >= 0.85"
  report:                                 # a shell stage, DVC style
    run: python scripts/report.py runs/latest/evaluate/metrics.json > report.md
    needs: [evaluate]
    deps: [scripts/report.py]
    outs: [report.md]
`;

const mlKinds = ['preprocess', 'train', 'evaluate', 'deploy'];

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe('the DESIGN.md example spec', () => {
  it.skipIf(!mlKinds.every((k) => stageKinds.get(k)))('validates with the built-in kinds', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': DESIGN_EXAMPLE, 'data/reviews.csv': 'text,label\ngood,1\nbad,0\n', 'scripts/report.py': '' });
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
    expect(result.spec.order).toEqual(['prepare', 'train', 'evaluate', 'deploy', 'report']);
    expect(result.spec.stages.train.params).toEqual({ lr: 0.001, epochs: 10 });
    expect(result.spec.stages.deploy.needs).toEqual(['train', 'evaluate']);
  });

  it.skipIf(!mlKinds.every((k) => stageKinds.get(k)))('starts a gated deploy after the evaluate stages that do not depend on it', async () => {
    const spec = DESIGN_EXAMPLE.replace('      gate: "accuracy >= 0.85"\n', '');
    ws = await makeWorkspace({ 'pipeline.yaml': spec, 'data/reviews.csv': 'text,label\ngood,1\nbad,0\n', 'scripts/report.py': '' });
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
    expect(result.spec.stages.deploy.needs).toEqual(['train']);
  });
});
