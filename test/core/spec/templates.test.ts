import { afterEach, describe, expect, it } from 'vitest';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { selectedStages } from '../../../src/core/run/plan-run.js';
import { formatDiagnostics } from '../../../src/render/diagnostics.js';
import type { LoadOptions, LoadResult, PipelineSpec } from '../../../src/core/spec/types.js';
import { fakeKinds, fakeRegistry } from './fixture-kinds.js';
import { f } from '../../../src/schema/fields.js';
import type { StageKind } from '../../../src/core/stage-kind.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

async function load(yaml: string, opts?: Omit<LoadOptions, 'kinds'>, files: Record<string, string> = {}): Promise<LoadResult> {
  ws = await makeWorkspace({ 'pipeline.yaml': yaml, ...files });
  return loadSpec(ws.path('pipeline.yaml'), { kinds: fakeRegistry, ...opts });
}

async function spec(yaml: string, opts?: Omit<LoadOptions, 'kinds'>, files?: Record<string, string>): Promise<PipelineSpec> {
  const r = await load(yaml, opts, files);
  if (!r.ok) throw new Error(formatDiagnostics(r.diagnostics, { color: false }));
  return r.spec;
}

async function errors(yaml: string, opts?: Omit<LoadOptions, 'kinds'>): Promise<string> {
  const r = await load(yaml, opts);
  if (r.ok) throw new Error('expected the spec to be invalid');
  return formatDiagnostics(r.diagnostics, { color: false }).replaceAll(`${ws!.dir}/pipeline`, 'pipeline');
}

describe('foreach templates', () => {
  it('make one stage per list item, NAME@VALUE, with ${item} substituted (alone it keeps its type)', async () => {
    const s = await spec(`name: t
stages:
  train:
    foreach: [small, large]
    do:
      run: echo \${item} > model-\${item}.txt
      outs: ["model-\${item}.txt"]
      env: { SIZE: "\${item}" }
  report:
    run: cat \${stages.train@small.outputs.model-small.txt} > r.txt
    needs: [train]
    outs: [r.txt]
`);
    expect(s.order).toEqual(['train@small', 'train@large', 'report']);
    expect(s.stages['train@large'].config).toMatchObject({ run: 'echo large > model-large.txt', outs: ['model-large.txt'], env: { SIZE: 'large' } });
    expect(s.stages.report.needs).toEqual(['train@small', 'train@large']);
    expect(s.groups).toEqual({ train: ['train@small', 'train@large'] });
  });

  it('over a mapping: NAME@KEY, ${key} and ${item.FIELD}; over mapping items in a list: NAME@INDEX', async () => {
    const s = await spec(`name: t
stages:
  fit:
    foreach:
      uk: { epochs: 3 }
      us: { epochs: 10 }
    do:
      run: train \${key} \${item.epochs}
  score:
    foreach: [{ n: 1 }, { n: 2 }]
    do:
      run: score \${item.n} \${key}
`);
    expect(Object.keys(s.stages)).toEqual(['fit@uk', 'fit@us', 'score@0', 'score@1']);
    expect(s.stages['fit@us'].config.run).toBe('train us 10');
    expect(s.stages['score@1'].config.run).toBe('score 2 1');
  });

  it('takes its items from a param, which --set can change', async () => {
    const yaml = `name: t
params:
  sizes: [1, 2]
stages:
  train:
    foreach: \${params.sizes}
    do:
      uses: train
      with:
        data: d
        epochs: \${item}
`;
    const s = await spec(yaml, {}, { d: '' });
    expect(s.stages['train@2'].config.epochs).toBe(2);
    const t = await spec(yaml, { set: ['params.sizes=[3]', 'train@3.batch_size=8'] }, { d: '' });
    expect(Object.keys(t.stages)).toEqual(['train@3']);
    expect(t.stages['train@3'].config).toMatchObject({ epochs: 3, batch_size: 8 });
  });
});

describe('matrix templates', () => {
  it('make the cartesian product, NAME@V1-V2, ${item.KEY}; non-scalar values as KEYINDEX', async () => {
    const s = await spec(`name: t
stages:
  sweep:
    matrix:
      model: [cnn, mlp]
      lr: [0.1, 0.01]
      opts: [{ a: 1 }]
    run: train --model \${item.model} --lr \${item.lr} --a \${item.opts.a} --name \${key}
    outs: ["out/\${key}.txt"]
`);
    expect(Object.keys(s.stages)).toEqual(['sweep@cnn-0.1-opts0', 'sweep@cnn-0.01-opts0', 'sweep@mlp-0.1-opts0', 'sweep@mlp-0.01-opts0']);
    expect(s.stages['sweep@mlp-0.01-opts0'].config).toMatchObject({ run: 'train --model mlp --lr 0.01 --a 1 --name mlp-0.01-opts0', outs: ['out/mlp-0.01-opts0.txt'] });
  });

  it('--stage selects a whole template by its name, or one generated stage', async () => {
    const s = await spec(`name: t
stages:
  prep:
    run: echo > p.txt
    outs: [p.txt]
  sweep:
    matrix: { m: [a, b] }
    run: cat p.txt > \${item.m}.txt
    deps: [p.txt]
    outs: ["\${item.m}.txt"]
  other:
    run: echo
`);
    expect(selectedStages(s, ['sweep'])).toEqual(['prep', 'sweep@a', 'sweep@b']);
    expect(selectedStages(s, ['sweep@b'])).toEqual(['prep', 'sweep@b']);
  });
});

describe('template errors', () => {
  it('are reported at the template nodes', async () => {
    expect(
      await errors(`name: t
stages:
  a:
    foreach: [x, y]
    do:
      run: echo \${item.nope}
      outz: []
  b:
    foreach: [data/x.csv]
    do: { run: echo }
  c:
    matrix: { m: "\${params.missing}" }
    run: echo
`),
    ).toMatchInlineSnapshot(`
      "pipeline.yaml:6:17 stages.a@*.run: expected a key of a mapping item, got \${item.nope}
        6 |       run: echo \${item.nope}
          |                 ^
        hint: the items are plain values here: write \${item}

      pipeline.yaml:7:7 stages.a@*.outz: expected a known key (uses, with, run, deps, outs, wdir, env, metrics, plots, code_deps, description, needs, cache, frozen, retries, resources, matrix), got "outz"
        7 |       outz: []
          |       ^
        hint: did you mean "outs"?

      pipeline.yaml:9:15 stages.b.foreach[0]: expected item values usable in a stage name (letters, digits, _ . + = , -), got "data/x.csv"
        9 |     foreach: [data/x.csv]
          |               ^
        hint: write the items as a mapping: its keys name the stages (NAME@KEY) and \${item} is the value

      pipeline.yaml:12:18 stages.c.matrix.m: expected a declared param, got \${params.missing}
        12 |     matrix: { m: "\${params.missing}" }
           |                  ^
        hint: declare it under "params:" at the top of the spec

      4 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });
});

describe('template items in run: commands (issue 14 item 1)', () => {
  it('${item} and ${item.FIELD} from a params list arrive quoted, as params do; outs stay as written', async () => {
    const s = await spec(
      `name: t
params:
  jobs: [{ msg: hi }]
stages:
  say:
    foreach: \${params.jobs}
    do:
      run: echo \${item.msg} "\${item.msg}" > out-\${key}.txt
      outs: ["out-\${key}.txt"]
`,
      { set: ['params.jobs=[{msg: "x; touch F $(id)"}]'] },
    );
    expect(s.stages['say@0'].config).toMatchObject({ run: `echo 'x; touch F $(id)' "x; touch F \\$(id)" > out-0.txt`, outs: ['out-0.txt'] });
  });

  it('an unknown item key is still reported once', async () => {
    expect(await errors(`name: t
stages:
  say:
    foreach: [{ a: 1 }]
    do:
      run: echo \${item.b}
`)).toContain('expected a key of the item (a), got ${item.b}');
  });
});

describe('template items in a run: list and in literal items', () => {
  it('each line of a run: list gets the item quoted, outside and inside quotes', async () => {
    const s = await spec(`name: t
stages:
  say:
    foreach:
      a: "x; touch F $(id) 'q'"
    do:
      run:
        - echo \${item} > out-\${key}.txt
        - echo "\${item}" '\${key}'
      outs: ["out-\${key}.txt"]
`);
    expect(s.stages['say@a'].config.run).toEqual([`echo 'x; touch F $(id) '\\''q'\\''' > out-a.txt`, `echo "x; touch F \\$(id) 'q'" 'a'`]);
  });
});

describe('more template errors', () => {
  it('a duplicate generated name, a non-list foreach (once) and a missing ${item.x} in a run: list, each at its node', async () => {
    const text = await errors(`name: t
stages:
  a:
    foreach: [x, y, x]
    do: { run: echo }
  b:
    foreach: 3
    do: { run: echo }
  c:
    matrix: { m: [p, q] }
    run:
      - echo \${item.m}
      - echo \${item.z}
  d@p:
    run: echo
`);
    expect(text).toContain('pipeline.yaml:4:21 stages.a.foreach[2]: expected each generated stage name once, got "a@x" twice');
    expect(text.match(/stages\.b\.foreach/g)).toHaveLength(1);
    expect(text).toContain('pipeline.yaml:7:14 stages.b.foreach: expected a list or a mapping or a string, got 3');
    expect(text).toContain('pipeline.yaml:13:14 stages.c@*.run[1]: expected a key of the item (m), got ${item.z}');
  });
});

describe('template items through the kind\'s seams', () => {
  const query: StageKind = {
    kind: 'query',
    version: 1,
    description: 'Test stand-in for the sql kind.',
    config: f.object('Query settings.', { query: f.string('One SELECT.'), label: f.string('Text.', { default: '' }) }, { required: ['query'] }),
    sql: ['query'],
    outputs: () => ({ table: { path: 'table.parquet', location: 'stage' } }),
    run: async () => {},
  };
  const kinds = new Map([...fakeKinds, query].map((k) => [k.kind, k]));

  it('an item in a sql kind\'s query lands as a SQL literal (escaped inside quotes), elsewhere as text', async () => {
    const s = await spec(
      `name: t
stages:
  pick:
    foreach:
      evil: "x'; drop table t; --"
    do:
      uses: query
      with:
        query: select * from t where name = \${item} or "\${key}" = '\${item}'
        label: "\${item}"
`,
      { kinds } as Omit<LoadOptions, 'kinds'>,
    );
    expect(s.stages['pick@evil'].config).toMatchObject({
      query: `select * from t where name = 'x''; drop table t; --' or "evil" = 'x''; drop table t; --'`,
      label: "x'; drop table t; --",
    });
  });

  it('an item holding ${…} is refused in a command or a query (params would read it again), kept in text', async () => {
    const text = await errors(
      `name: t
params:
  msg: hi
stages:
  say:
    foreach:
      a: "\${raw.params.msg}"
    do:
      run: echo \${item} > out.txt
      outs: [out.txt]
      env: { MSG: "\${item}" }
`,
    );
    expect(text).toContain('pipeline.yaml:9:17 stages.say@a.run: expected an item without ${…} where it is spliced into a command or a query, got ${item} = "${raw.params.msg}"');
    expect(text).toContain('1 error in pipeline.yaml');
  });
});
