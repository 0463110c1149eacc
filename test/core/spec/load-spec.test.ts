import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { fakeRegistry } from './fixture-kinds.js';
import { formatDiagnostics } from '../../../src/render/diagnostics.js';
import type { LoadOptions, LoadResult } from '../../../src/core/spec/types.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';


let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

async function load(files: Record<string, string | Uint8Array>, opts?: Omit<LoadOptions, 'kinds'>): Promise<LoadResult> {
  ws = await makeWorkspace(files);
  return loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, ...opts });
}

/** The diagnostics as a user sees them, with the temp folder taken out. */
async function errors(files: Record<string, string | Uint8Array>, opts?: Omit<LoadOptions, 'kinds'>): Promise<string> {
  const result = await load(files, opts);
  if (result.ok) throw new Error('expected the spec to be invalid');
  return formatDiagnostics(result.diagnostics, { color: false }).replaceAll(`${ws!.dir}/pipeline`, 'pipeline').replaceAll(ws!.dir, '<ws>');
}

const DATA = { 'data/reviews.csv': 'text,label\ngood,1\nbad,0\n' };

const VALID = `name: sentiment
params:
  lr: 0.001
  epochs: 10
  model:
    units: 16
stages:
  prepare:
    uses: preprocess
    with:
      input: data/reviews.csv
      target: label
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      epochs: \${params.epochs}
      optimizer: { learning_rate: "\${params.lr}" }
      model:
        layers:
          - { type: dense, units: "\${params.model.units}" }
      tag: "lr=\${params.lr} units=\${params.model.units}"
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.model}
      data: \${stages.prepare.outputs.dataset}
  report:
    run: node report.js \${stages.evaluate.outputs.metrics} > report.md
    deps: [report.js]
    outs: [report.md]
`;

describe('loadSpec on a valid spec', () => {
  it('resolves params, keeps output refs, applies defaults and orders the stages', async () => {
    const result = await load({ 'pipeline.yaml': VALID, 'report.js': '', ...DATA });
    if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
    const { spec } = result;
    expect(spec.name).toBe('sentiment');
    expect(spec.file).toBe(ws!.path('pipeline.yaml'));
    expect(spec.dir).toBe(ws!.dir);
    expect(spec.order).toEqual(['prepare', 'train', 'evaluate', 'report']);
    expect(spec.specHash).toBe(createHash('sha256').update(VALID).digest('hex'));
    expect(spec.stages.train.impl).toBe(fakeRegistry.get('train'));
    const { impl: _impl, ...train } = spec.stages.train;
    expect(train).toEqual({
      name: 'train',
      kind: 'train',
      config: {
        data: '${stages.prepare.outputs.dataset}',
        epochs: 10,
        batch_size: 32,
        optimizer: { name: 'adam', learning_rate: 0.001 },
        model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
        tag: 'lr=0.001 units=16',
        shuffle: true,
      },
      needs: ['prepare'],
      refs: [{ stage: 'prepare', output: 'dataset' }],
      inputs: [],
      params: { epochs: 10, lr: 0.001, 'model.units': 16 },
      cache: true,
      frozen: false,
      retries: 0,
      labels: [],
      pos: { line: 13, col: 3 },
    });
    expect(spec.stages.prepare.config).toEqual({ input: 'data/reviews.csv', target: 'label', split: { test: 0.2, seed: 42 } });
    expect(spec.stages.prepare.inputs).toEqual(['data/reviews.csv']);
    expect(spec.stages.evaluate.needs).toEqual(['prepare', 'train']);
    expect(spec.stages.evaluate.cache).toBe(false);
    expect(spec.stages.report).toMatchObject({
      kind: 'shell',
      config: { run: 'node report.js ${stages.evaluate.outputs.metrics} > report.md', deps: ['report.js'], outs: ['report.md'], env: {} },
      needs: ['evaluate'],
      inputs: ['report.js'],
    });
    expect(result.warnings).toEqual([]);
  });

  it('defaults the name to the spec folder and honours cache: false', async () => {
    const result = await load({ 'pipeline.yaml': 'stages:\n  hello:\n    run: echo hi > hi.txt\n    outs: [hi.txt]\n    cache: false\n' });
    expect(result.ok && result.spec.name).toBe(ws!.dir.split('/').pop());
    expect(result.ok && result.spec.stages.hello.cache).toBe(false);
  });

  it('links shell stages through outs used as deps, and through output refs whose names hold / and .', async () => {
    const result = await load({
      'pipeline.yaml': `name: chain
stages:
  clean:
    run: node clean.js > data/clean.csv
    deps: [clean.js, data/raw.csv]
    outs: [data/clean.csv, data/stats]
  features:
    run: node features.js data/clean.csv data/stats/summary.json \${stages.clean.outputs.data/clean.csv}
    deps: [features.js, data/clean.csv, data/stats/summary.json]
    outs: { table: features.csv }
  report:
    run: cat \${stages.features.outputs.table} > report.txt
    outs: [report.txt]
    env: { ROWS: 10, VERBOSE: true, HOME_DIR: "\${HOME}" }
`,
      'clean.js': '',
      'features.js': '',
      'data/raw.csv': 'a\n1\n',
    });
    if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
    const { stages, order } = result.spec;
    expect(order).toEqual(['clean', 'features', 'report']);
    expect(stages.clean.inputs).toEqual(['clean.js', 'data/raw.csv']);
    expect(stages.features.needs).toEqual(['clean']);
    expect(stages.features.inputs).toEqual(['features.js']);
    expect(stages.features.refs).toEqual([{ stage: 'clean', output: 'data/clean.csv' }]);
    expect(stages.report.needs).toEqual(['features']);
    expect(stages.report.config.env).toEqual({ ROWS: '10', VERBOSE: 'true', HOME_DIR: '${HOME}' });
  });

  it('orders independent stages by their place in the spec', async () => {
    const result = await load({
      'pipeline.yaml': `name: fan
stages:
  z_last:
    run: echo \${stages.b.outputs.b.txt} \${stages.a.outputs.a.txt}
  b:
    run: echo b > b.txt
    outs: [b.txt]
  a:
    run: echo a > a.txt
    outs: [a.txt]
`,
    });
    expect(result.ok && result.spec.order).toEqual(['b', 'a', 'z_last']);
    expect(result.ok && result.spec.stages.z_last.needs).toEqual(['b', 'a']);
  });

  it('warns about a param no stage uses', async () => {
    const result = await load({ 'pipeline.yaml': 'name: p\nparams:\n  unused: 1\nstages:\n  s:\n    run: echo\n' });
    expect(result.ok).toBe(true);
    expect(formatDiagnostics(result.ok ? result.warnings : [], { color: false }).replaceAll(`${ws!.dir}/`, '')).toMatchInlineSnapshot(`
      "pipeline.yaml:3:3 params.unused: warning: param "unused" is not used by any stage
        3 |   unused: 1
          |   ^
        hint: use it as \${params.unused} in a stage, or remove it

      1 warning in pipeline.yaml
      "
    `);
  });
});

describe('loadSpec reports', () => {
  it('a YAML syntax error with its position', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  a:\n    run: echo\n   needs: [b]\n  b:\n    run: echo\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:5:1 invalid YAML: All mapping items must start at the same column
        5 |    needs: [b]
          | ^
        hint: keys of one mapping must start at the same column; check the indentation of this line and the one above

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('an unclosed bracket where it opened, naming where the parser stopped', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  a:\n    deps: [a.txt, b.txt\n    outs: [o]\n    run: echo\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:4:11 invalid YAML: the "[" opened at 4:11 is never closed (the parser stopped at 5:5: Flow sequence in block collection must be sufficiently indented and end with a ])
        4 |     deps: [a.txt, b.txt
          |           ^
        hint: close the list with "]", or write it as a block list (one "- item" per line)

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('an unclosed quote where it opened', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: "p\nstages:\n  a:\n    run: echo\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:1:7 invalid YAML: the quote " opened at 1:7 is never closed (the parser stopped at 5:1: Missing closing "quote)
        1 | name: "p
          |       ^
        hint: close the quote, or escape a quote inside the value as \\"

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('an unquoted placeholder inside a flow mapping, with the fix', async () => {
    expect(
      await errors({ 'pipeline.yaml': 'name: p\nparams: { lr: 0.1 }\nstages:\n  t:\n    uses: train\n    with:\n      data: x\n      optimizer: { learning_rate: ${params.lr} }\n' }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:8:36 invalid YAML: Unexpected flow-map-start at node end
        8 |       optimizer: { learning_rate: \${params.lr} }
          |                                    ^
        hint: inside { … } or [ … ], quote placeholders: "\${params.lr}" (quoted, a lone placeholder still keeps its type)

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('unknown keys with a did-you-mean, at the key', async () => {
    expect(
      await errors({
        'pipeline.yaml': 'name: p\nstage:\n  x: 1\nstages:\n  prepare:\n    uses: preprocess\n    with:\n      input: data/reviews.csv\n      tagret: label\n    need: []\n',
        ...DATA,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:2:1 stage: expected a known key (name, description, params, stages, metrics), got "stage"
        2 | stage:
          | ^
        hint: did you mean "stages"?

      pipeline.yaml:9:7 stages.prepare.with.tagret: expected a known key (input, target, split), got "tagret"
        9 |       tagret: label
          |       ^
        hint: did you mean "target"?

      pipeline.yaml:10:5 stages.prepare.need: expected a known key (uses, with, run, deps, outs, wdir, env, metrics, plots, code_deps, description, needs, cache, frozen, retries, resources, matrix, foreach, do), got "need"
        10 |     need: []
           |     ^
        hint: did you mean "needs"?

      3 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a wrong type or bound at the value, every one at once', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  prepare:
    uses: preprocess
    with: { input: data/reviews.csv, split: { test: 1.5 } }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      epochs: 0
      batch_size: ten
      optimizer: { name: adamw }
      model:
        layers:
          - { type: dense, units: 8 }
          - { type: dropuot, rate: 0.5 }
    cache: "no"
`,
        ...DATA,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:5:53 stages.prepare.with.split.test: expected a number > 0 and ≤ 1, got 1.5
        5 |     with: { input: data/reviews.csv, split: { test: 1.5 } }
          |                                                     ^

      pipeline.yaml:10:15 stages.train.with.epochs: expected an integer ≥ 1, got 0
        10 |       epochs: 0
           |               ^

      pipeline.yaml:11:19 stages.train.with.batch_size: expected an integer ≥ 1, got "ten"
        11 |       batch_size: ten
           |                   ^

      pipeline.yaml:12:26 stages.train.with.optimizer.name: expected one of "adam", "sgd", got "adamw"
        12 |       optimizer: { name: adamw }
           |                          ^
        hint: did you mean "adam"?

      pipeline.yaml:16:21 stages.train.with.model.layers[1].type: expected "type" to be one of dense, dropout, got "dropuot"
        16 |           - { type: dropuot, rate: 0.5 }
           |                     ^
        hint: did you mean "dropout"?

      pipeline.yaml:17:12 stages.train.cache: expected true or false, got "no"
        17 |     cache: "no"
           |            ^

      6 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a missing required key at the enclosing key', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  t:\n    uses: train\n  e:\n    uses: evaluate\n    with:\n      model: m\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:3:3 stages.t.with: expected a "data" key (a path), got none
        3 |   t:
          |   ^
        hint: add "data:" — The prepared dataset.

      pipeline.yaml:7:5 stages.e.with: expected a "data" key (a path), got none
        7 |     with:
          |     ^
        hint: add "data:" — The dataset.

      pipeline.yaml:8:14 stages.e.with.model: expected an existing file or folder, got "m" (not found at <ws>/m)
        8 |       model: m
          |              ^
        hint: create it, correct the path (relative to the spec folder), or list it in the outs of the stage that writes it

      3 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a stage with both or neither of uses and run, and shell keys in a uses stage', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  both:
    uses: train
    run: echo
  neither:
    needs: [both]
  mixed:
    uses: evaluate
    with: { model: a, data: b }
    outs: [x]
`,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:3:3 stages.both: expected either "uses" or "run", got both
        3 |   both:
          |   ^
        hint: a stage either uses a built-in kind (uses + with) or runs a shell command (run + deps/outs); split it into two stages

      pipeline.yaml:6:3 stages.neither: expected "uses" (a built-in kind) or "run" (a shell command), got neither
        6 |   neither:
          |   ^
        hint: add "uses: KIND" (evaluate, preprocess, train) or "run: COMMAND"

      pipeline.yaml:11:5 stages.mixed.outs: expected a key of a "uses:" stage (uses, with, description, needs, cache, frozen, retries, resources, matrix), got "outs"
        11 |     outs: [x]
           |     ^
        hint: "outs" belongs to run: stages; a "uses: evaluate" stage takes its settings under "with:"

      3 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('an unknown kind, listing the known ones', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  t:\n    uses: trian\n  s:\n    uses: shell\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:4:11 stages.t.uses: expected a known stage kind (evaluate, preprocess, train), got "trian"
        4 |     uses: trian
          |           ^
        hint: did you mean "train"?

      pipeline.yaml:6:11 stages.s.uses: expected a known stage kind (evaluate, preprocess, train), got "shell"
        6 |     uses: shell
          |           ^
        hint: write shell stages with "run: COMMAND" instead of "uses:"

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('unknown stages, outputs and params in references, pointing at the placeholder', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
params:
  lr: 0.1
  model: { units: 4 }
stages:
  prepare:
    uses: preprocess
    with: { input: data/reviews.csv }
  train:
    uses: train
    with:
      data: \${stages.prepar.outputs.dataset}
      optimizer:
        learning_rate: \${params.lrr}
      tag: "units \${params.model.unit}"
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.modle}
      data: \${stages.prepare.outputs.dataset}
    needs: [trian]
  report:
    run: echo \${param.lr} \${HOME} \${stages.prepare.outputs.datset} \${stages.evaluate.outputs.metrics}
`,
        ...DATA,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:12:13 stages.train.with.data: expected a stage name (prepare, train, evaluate, report), got "prepar" in \${stages.prepar.outputs.dataset}
        12 |       data: \${stages.prepar.outputs.dataset}
           |             ^
        hint: did you mean "prepare"?

      pipeline.yaml:14:24 stages.train.with.optimizer.learning_rate: expected a declared param (lr, model), got "lrr" in \${params.lrr}
        14 |         learning_rate: \${params.lrr}
           |                        ^
        hint: did you mean \${params.lr}?

      pipeline.yaml:15:19 stages.train.with.tag: expected a key of params.model (units), got "unit" in \${params.model.unit}
        15 |       tag: "units \${params.model.unit}"
           |                   ^
        hint: did you mean \${params.model.units}?

      pipeline.yaml:21:13 stages.evaluate.needs[0]: expected a stage name (prepare, train, evaluate, report), got "trian"
        21 |     needs: [trian]
           |             ^
        hint: did you mean "train"?

      pipeline.yaml:23:15 stages.report.run: expected \${params.NAME} or \${stages.STAGE.outputs.NAME}, got \${param.lr}
        23 |     run: echo \${param.lr} \${HOME} \${stages.prepare.outputs.datset} \${stages.evaluate.outputs.metrics}
           |               ^
        hint: did you mean \${params.…}?

      pipeline.yaml:23:35 stages.report.run: expected an output of stage "prepare" (dataset), got "datset" in \${stages.prepare.outputs.datset}
        23 |     run: echo \${param.lr} \${HOME} \${stages.prepare.outputs.datset} \${stages.evaluate.outputs.metrics}
           |                                   ^
        hint: did you mean "dataset"?

      6 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a dependency cycle, printed as a path', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  prepare:
    run: echo > prepared.txt
    outs: [prepared.txt]
  train:
    uses: train
    with: { data: "\${stages.prepare.outputs.prepared.txt}" }
    needs: [evaluate]
  evaluate:
    uses: evaluate
    with: { model: "\${stages.train.outputs.model}", data: x }
`,
        x: '',
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:9:13 stages.train.needs[0]: expected stages without a dependency cycle, got train → evaluate → train
        9 |     needs: [evaluate]
          |             ^
        hint: a stage cannot use, directly or through other stages, what it produces; remove one of these references or needs entries

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a stage that needs itself', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  a:\n    run: echo\n    needs: [a]\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:5:13 stages.a.needs[0]: expected stages without a dependency cycle, got a → a
        5 |     needs: [a]
          |             ^
        hint: a stage cannot use, directly or through other stages, what it produces; remove one of these references or needs entries

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a duplicate stage name at the second one', async () => {
    expect(await errors({ 'pipeline.yaml': 'name: p\nstages:\n  train:\n    run: echo 1\n  train:\n    run: echo 2\n' })).toMatchInlineSnapshot(`
      "pipeline.yaml:5:3 stages.train: expected unique stage names, got "train" twice
        5 |   train:
          |   ^
        hint: stage names must be unique; rename one of the two stages

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('paths that leave the workspace, but takes absolute paths as meant', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  steal:
    run: cat ../../etc/passwd > out.txt
    deps: [../../etc/passwd, /etc/hostname]
    outs: [out.txt, ../escape.txt]
`,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:5:12 stages.steal.deps[0]: expected a path inside the project root, got "../../etc/passwd"
        5 |     deps: [../../etc/passwd, /etc/hostname]
          |            ^
        hint: relative paths may reach anywhere inside the project root, here the spec folder itself (no mlpipe.yaml or .git above it); write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both

      pipeline.yaml:6:21 stages.steal.outs[1]: expected a path inside the project root, got "../escape.txt"
        6 |     outs: [out.txt, ../escape.txt]
          |                     ^
        hint: relative paths may reach anywhere inside the project root, here the spec folder itself (no mlpipe.yaml or .git above it); write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a missing input file, unless another stage writes it', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  make:
    run: echo > made.csv
    outs: [made.csv]
  use:
    run: cat made.csv missing.csv
    deps: [made.csv, missing.csv]
  prepare:
    uses: preprocess
    with: { input: data/nope.csv }
`,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:8:22 stages.use.deps[1]: expected an existing file or folder, got "missing.csv" (not found at <ws>/missing.csv)
        8 |     deps: [made.csv, missing.csv]
          |                      ^
        hint: create it, correct the path (relative to the spec folder), or list it in the outs of the stage that writes it

      pipeline.yaml:11:20 stages.prepare.with.input: expected an existing file or folder, got "data/nope.csv" (not found at <ws>/data/nope.csv)
        11 |     with: { input: data/nope.csv }
           |                    ^
        hint: create it, correct the path (relative to the spec folder), or list it in the outs of the stage that writes it

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('two stages writing the same path', async () => {
    expect(
      await errors({
        'pipeline.yaml': `name: p
stages:
  a:
    run: echo > out/a.txt
    outs: [out]
  b:
    run: echo > out/a.txt
    outs: [out/a.txt, b.txt, b.txt]
`,
      }),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:8:12 stages.b.outs[0]: expected an output path no other output uses, got "out/a.txt" (also written by stage "a" as "out")
        8 |     outs: [out/a.txt, b.txt, b.txt]
          |            ^
        hint: give each stage its own output paths; a stage that reads another one's output lists it in deps

      pipeline.yaml:8:30 stages.b.outs[2]: expected an output path no other output uses, got "b.txt" (listed twice in this stage)
        8 |     outs: [out/a.txt, b.txt, b.txt]
          |                              ^
        hint: give each stage its own output paths; a stage that reads another one's output lists it in deps

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('a billion-laughs alias bomb without expanding it', async () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 0; i < 8; i++) {
      const name = String.fromCharCode(98 + i);
      const prev = String.fromCharCode(97 + i);
      bomb += `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    }
    expect(await errors({ 'pipeline.yaml': `${bomb}stages:\n  s:\n    run: echo\n` })).toMatchInlineSnapshot(`
      "pipeline.yaml:1:1 expected at most 100 alias expansions, got more (a "billion laughs" document?)
        1 | a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
          | ^
        hint: write the values out instead of nesting aliases of aliases

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('bytes that are not UTF-8, at their line and column', async () => {
    const bytes = Buffer.concat([Buffer.from('name: p\nstages:\n  s:\n    run: echo caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(await errors({ 'pipeline.yaml': bytes })).toMatchInlineSnapshot(`
      "pipeline.yaml:4:18 expected UTF-8 text, got the byte 0xe9
        4 |     run: echo caf�
          |                  ^
        hint: save the file with UTF-8 encoding

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('nesting deeper than the limit', async () => {
    const deep = `name: p\nstages:\n  s:\n    run: echo\n    env: ${'['.repeat(100)}${']'.repeat(100)}\n`;
    const text = await errors({ 'pipeline.yaml': deep });
    expect(text.split('\n')[0]).toMatchInlineSnapshot(`"pipeline.yaml:5:71 stages.s.env[0]…: expected at most 64 levels of nesting, got more"`);
  });

  it('a missing file, an empty file and a list at the top', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': '' , 'list.yaml': '- a\n- b\n'});
    const show = async (name: string): Promise<string> => {
      const r = await loadSpec(ws!.path(name), { kinds: fakeRegistry });
      return r.ok ? 'ok' : formatDiagnostics(r.diagnostics, { color: false }).replaceAll(`${ws!.dir}/`, '');
    };
    expect(await show('pipeline.yml')).toMatchInlineSnapshot(`
      "pipeline.yml: expected a pipeline file, found none at this path
        hint: did you mean "pipeline.yaml"?

      1 error in pipeline.yml — fix it and run: mlpipe validate pipeline.yml
      "
    `);
    expect(await show('pipeline.yaml')).toMatchInlineSnapshot(`
      "pipeline.yaml:1:1 expected a mapping with "name", "params" and "stages", got nothing (the file is empty)
        1 | 
          | ^
        hint: start from the example in README.md: a name, params and stages

      1 error in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml
      "
    `);
    expect(await show('list.yaml')).toMatchInlineSnapshot(`
      "list.yaml:1:1 expected a mapping with "name", "params" and "stages", got a list
        1 | - a
          | ^
        hint: start from the example in README.md: a name, params and stages

      1 error in list.yaml — fix it and run: mlpipe validate list.yaml
      "
    `);
  });
});
