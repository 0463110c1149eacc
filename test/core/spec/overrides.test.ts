import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDiagnostics } from '../../../src/render/diagnostics.js';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { fakeRegistry } from './fixture-kinds.js';
import { parseOverrideValue, parseSetItem } from '../../../src/core/spec/overrides.js';
import type { LoadOptions, PipelineSpec } from '../../../src/core/spec/types.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';


let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

const SPEC = `name: p
params:
  lr: 0.001
  epochs: 10
  name: base
  model: { units: 16, layers: [8, 4] }
stages:
  train:
    uses: train
    with:
      data: data.csv
      epochs: \${params.epochs}
      optimizer:
        learning_rate: \${params.lr}
      tag: "run-\${params.name}-lr\${params.lr}"
      model:
        layers:
          - type: dense
            units: \${params.model.units}
  report:
    run: echo \${params.model.layers} \${params.lr}
    env: { NAME: "\${params.name}" }
`;

async function load(opts: Omit<LoadOptions, 'kinds'>, files: Record<string, string> = {}): Promise<PipelineSpec> {
  ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'data.csv': 'a\n1\n', ...files });
  const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, ...opts, paramsFile: opts.paramsFile && ws.path(opts.paramsFile) });
  if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
  return result.spec;
}

async function errors(opts: Omit<LoadOptions, 'kinds'>, files: Record<string, string> = {}): Promise<string> {
  ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'data.csv': 'a\n1\n', ...files });
  const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, ...opts, paramsFile: opts.paramsFile && ws.path(opts.paramsFile) });
  if (result.ok) throw new Error('expected errors');
  return formatDiagnostics(result.diagnostics, { color: false, file: 'pipeline.yaml' }).replaceAll(`${ws.dir}/`, '');
}

describe('--set values', () => {
  it('are typed as YAML scalars', () => {
    expect(parseOverrideValue('0.01')).toBe(0.01);
    expect(parseOverrideValue('20')).toBe(20);
    expect(parseOverrideValue('true')).toBe(true);
    expect(parseOverrideValue('null')).toBe(null);
    expect(parseOverrideValue('"0.01"')).toBe('0.01');
    expect(parseOverrideValue('adam')).toBe('adam');
    expect(parseOverrideValue('[1, 2]')).toEqual([1, 2]);
    expect(parseOverrideValue('{a: 1}')).toEqual({ a: 1 });
    expect(parseOverrideValue('echo a: b')).toBe('echo a: b');
    expect(parseOverrideValue('echo #1')).toBe('echo #1');
    expect(parseOverrideValue("'quoted # text'")).toBe('quoted # text');
    expect(parseOverrideValue('')).toBe('');
    expect(parseOverrideValue('*alias')).toBe('*alias');
  });

  it('split KEY=VALUE at the first =', () => {
    expect(parseSetItem('train.run=a=b')).toEqual({ text: 'train.run=a=b', key: ['train', 'run'], value: 'a=b' });
    expect(parseSetItem('params.lr')).toMatchObject({ message: 'expected KEY=VALUE, got "params.lr"' });
  });
});

describe('params precedence and typing', () => {
  it('a lone ${params.x} keeps its type; inside a string it is formatted in', async () => {
    const spec = await load({});
    expect(spec.stages.train.config.epochs).toBe(10);
    expect(spec.stages.train.config.optimizer).toEqual({ name: 'adam', learning_rate: 0.001 });
    expect(spec.stages.train.config.tag).toBe('run-base-lr0.001');
    expect(spec.stages.report.config.run).toBe("echo '[8,4]' 0.001"); // a list is one quoted word in a command line
    expect(spec.stages.train.params).toEqual({ epochs: 10, lr: 0.001, name: 'base', 'model.units': 16 });
  });

  it('spec params < --params file < --set', async () => {
    const spec = await load(
      { paramsFile: 'params.yaml', set: ['params.lr=0.01', 'params.model.units=64'] },
      { 'params.yaml': 'lr: 0.5\nepochs: 3\nmodel: { layers: [2] }\n' },
    );
    expect(spec.params).toEqual({ lr: 0.01, epochs: 3, name: 'base', model: { units: 64, layers: [2] } });
    expect(spec.stages.train.config.epochs).toBe(3);
    expect(spec.stages.train.config.optimizer).toEqual({ name: 'adam', learning_rate: 0.01 });
    expect(spec.stages.train.config.model).toEqual({ layers: [{ type: 'dense', units: 64, activation: 'relu' }] });
    expect(spec.stages.report.config.run).toBe("echo '[2]' 0.01");
  });

  it('a JSON params file works too', async () => {
    const spec = await load({ paramsFile: 'params.json' }, { 'params.json': '{"epochs": 7}' });
    expect(spec.stages.train.config.epochs).toBe(7);
  });

  it('--set STAGE.key overrides the stage settings (with keys; run and env keys of shell stages)', async () => {
    const spec = await load({ set: ['train.epochs=20', 'train.optimizer.name=sgd', 'train.model.layers.0.units=3', 'report.run=echo hi', 'report.env.EXTRA=1'] });
    expect(spec.stages.train.config).toMatchObject({ epochs: 20, optimizer: { name: 'sgd', learning_rate: 0.001 }, model: { layers: [{ units: 3 }] } });
    expect(spec.stages.train.params).not.toHaveProperty('epochs');
    expect(spec.stages.report.config).toMatchObject({ run: 'echo hi', env: { NAME: 'base', EXTRA: '1' } });
  });

  it('a --set value may itself use a param', async () => {
    const spec = await load({ set: ['train.batch_size=${params.epochs}'] });
    expect(spec.stages.train.config.batch_size).toBe(10);
  });
});

describe('override errors', () => {
  it('an unknown param or stage in --set, a malformed item and a wrong value', async () => {
    expect(await errors({ set: ['params.lrr=0.1', 'trian.epochs=3', 'params.model.unitz=2', 'lr', 'train.epochs=0', 'train.epoch=5'] })).toMatchInlineSnapshot(`
      "pipeline.yaml: --set params.lrr: expected a declared param (lr, epochs, name, model), got "lrr"
        hint: did you mean "lr"?

      pipeline.yaml: --set params.model.unitz: expected a key of params.model (units, layers), got "unitz"
        hint: did you mean "model.units"?

      pipeline.yaml: --set lr: expected KEY=VALUE, got "lr"
        hint: e.g. --set params.lr=0.01 or --set train.epochs=20

      pipeline.yaml: --set trian.epochs: expected "params" or a stage name (train, report), got "trian"
        hint: did you mean "train"?

      pipeline.yaml: --set train.epochs: expected an integer ≥ 1, got 0

      pipeline.yaml: --set train.epoch: expected a known key (data, epochs, batch_size, optimizer, model, tag, shuffle), got "epoch"
        hint: did you mean "epochs"?

      6 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('an unknown param in the params file, at its line', async () => {
    expect(await errors({ paramsFile: 'params.yaml' }, { 'params.yaml': 'lr: 0.1\nepoch: 3\nmodel:\n  unit: 4\n' })).toMatchInlineSnapshot(`
      "params.yaml:2:1 epoch: expected a declared param (lr, epochs, name, model), got "epoch"
        2 | epoch: 3
          | ^
        hint: did you mean "epochs"?

      params.yaml:4:3 model.unit: expected a key of params.model (units, layers), got "unit"
        4 |   unit: 4
          |   ^
        hint: did you mean "model.units"?

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a params file that is missing or not a mapping', async () => {
    expect(await errors({ paramsFile: 'nope.yaml' })).toMatchInlineSnapshot(`
      "nope.yaml: --params: expected a readable params file, got nothing at that path

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
    expect(await errors({ paramsFile: 'list.yaml' }, { 'list.yaml': '- 1\n' })).toMatchInlineSnapshot(`
      "list.yaml:1:1 expected a mapping of param names to values, got a list
        1 | - 1
          | ^

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });
});

describe('param sizes (issue 14 item 9)', () => {
  const big = 'x'.repeat(70 * 1024);

  it('a --set value, a params file value or a spec param over 64 KiB is an error naming its source, before any YAML parse', async () => {
    expect(parseSetItem(`params.name=${big}`)).toEqual({ key: ['params', 'name'], message: 'expected a param value of at most 64 KiB, got 70 KiB', hint: expect.stringContaining('write large values to a file') });
    expect(await errors({ set: [`params.name=${big}`] })).toContain('--set params.name: expected a param value of at most 64 KiB, got 70 KiB');
    expect(await errors({ paramsFile: 'p.yaml' }, { 'p.yaml': `name: ${big}\n` })).toContain('p.yaml:1:1 name: expected a param value of at most 64 KiB, got 70 KiB');
    ws = await makeWorkspace({ 'pipeline.yaml': SPEC.replace('name: base', `name: ${big}`), 'data.csv': 'a\n1\n' });
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.diagnostics.map((d) => `${d.path}: ${d.message}`)).toContain('params.name: expected a param value of at most 64 KiB, got 70 KiB');
  });

  it('a params file over 1 MiB is refused unread', async () => {
    expect(await errors({ paramsFile: 'p.yaml' }, { 'p.yaml': `name: ${'y'.repeat(20 * 1024 * 1024)}\n` })).toContain('expected a params file of at most 1 MiB, got 20.0 MiB');
  });
});

describe('command line size (issue 14 item 9)', () => {
  it('a run: command over 128 KiB after params are substituted is a spec error, not a spawn E2BIG', async () => {
    const spec = `name: p\nparams: { a: "" }\nstages:\n  s:\n    run: echo \${params.a} \${params.a} \${params.a}\n`;
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, set: [`params.a=${'z'.repeat(50 * 1024)}`] });
    expect(!result.ok && result.diagnostics.map((d) => `${d.path}: ${d.message}`)).toEqual([
      'stages.s.run: expected a command line under 128 KiB (the system\'s limit for one argument), got 150 KiB after params were substituted',
    ]);
  });
});

describe('absolute outputs (issue 14 item 9)', () => {
  it('an absolute out or metrics path is refused at validate, with its position', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: p\nstages:\n  s:\n    run: echo > /tmp/x.txt\n    outs: [/tmp/x.txt]\n    metrics: /tmp/m.json\n' });
    const result = await loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry });
    expect(!result.ok && result.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.path}: ${d.message}`)).toEqual([
      '5:12 stages.s.outs[0]: expected an output path relative to the spec folder, got the absolute path "/tmp/x.txt"',
      '6:14 stages.s.metrics: expected an output path relative to the spec folder, got the absolute path "/tmp/m.json"',
    ]);
  });
});
