import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { fakeRegistry } from './fixture-kinds.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';


const BASE = `name: p
params:
  lr: 0.001
  model: { units: 16, layers: [1, 2] }
stages:
  prepare:
    uses: preprocess
    with:
      input: data.csv
      split: { test: 0.2 }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      epochs: 3
      optimizer: { learning_rate: "\${params.lr}" }
      model:
        layers:
          - { type: dense, units: "\${params.model.units}" }
    needs: [prepare]
  report:
    run: echo \${stages.train.outputs.model} > r.txt
    deps: [data.csv]
    outs: [r.txt]
    env: { A: "1" }
`;

let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace({ 'data.csv': 'a\n1\n' });
});
afterAll(() => ws.cleanup());

describe('hostile specs', () => {
  it('random edits of a valid spec give a result, never an exception, and every error is well-formed', async () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const tokens = ['{', '}', '[', ']', ':', ' ', '\n', '- ', '&a ', '*a', '${', '"', "'", '#', 'x', '0', '\t', '../', '<<: *a', '!!str ', '? ', ',', '|', '1e999'];
    for (let i = 0; i < 200; i++) {
      let text = BASE;
      for (let k = 0, edits = 1 + rnd(4); k < edits; k++) {
        const at = rnd(text.length);
        const op = rnd(3);
        const from = rnd(text.length);
        text =
          op === 0 ? text.slice(0, at) + text.slice(at + 1 + rnd(10))
          : op === 1 ? text.slice(0, at) + tokens[rnd(tokens.length)] + text.slice(at)
          : text.slice(0, at) + text.slice(from, from + rnd(30)) + text.slice(at);
      }
      writeFileSync(ws.path('pipeline.yaml'), text);
      const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, set: i % 5 === 0 ? ['train.epochs=2', 'params.lr=0.1'] : [] });
      const diagnostics = result.ok ? result.warnings : result.diagnostics;
      if (!result.ok) expect(diagnostics.some((d) => d.severity === 'error'), text).toBe(true);
      for (const d of diagnostics) {
        expect(d.message.length, text).toBeGreaterThan(0);
        if (d.pos) expect(d.pos.line, text).toBeGreaterThan(0);
      }
    }
  });

  it('keys named like Object.prototype members are plain keys, and nothing is polluted', async () => {
    writeFileSync(ws.path('p.yaml'), 'toString: 1\n');
    writeFileSync(
      ws.path('pipeline.yaml'),
      `name: p
params: { constructor: 1 }
stages:
  toString:
    uses: train
    with: { data: data.csv, constructor: 1, model: { layers: [{ type: constructor }] } }
`,
    );
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, paramsFile: ws.path('p.yaml'), set: ['params.hasOwnProperty=1', 'toString.__proto__.polluted=1'] });
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.diagnostics.map((d) => `${d.path}: ${d.message}`);
    expect(messages).toEqual([
      '--set params.hasOwnProperty: expected a declared param (constructor), got "hasOwnProperty"',
      '--set toString.__proto__.polluted: expected a key name, got "__proto__"',
      'stages.toString.with.constructor: expected a known key (data, epochs, batch_size, optimizer, model, tag, shuffle), got "constructor"',
      'stages.toString.with.model.layers[0].type: expected "type" to be one of dense, dropout, got "constructor"',
      'toString: expected a declared param (constructor), got "toString"',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
