import { afterEach, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import type { PipelineSpec } from '../../../src/core/spec/types.js';
import { stageKinds } from '../../../src/stages/index.js';
import { planPipeline, runPipeline } from '../../../src/core/run/run-pipeline.js';
import { reasonLine, reasonText } from '../../../src/render/reasons.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

// The usual layout: data and scripts at the project root, pipelines in pipelines/NAME/pipeline.yaml,
// paths written relative to the spec folder (or to a stage's wdir), no absolute paths.

const SPEC = `name: layout
stages:
  count:
    run: mkdir -p out && sh ../../scripts/count.sh ../../data/in.csv > out/count.txt
    deps: [../../data/in.csv, ../../scripts/count.sh]
    outs: [out/count.txt]
  top:
    wdir: ../..
    run: mkdir -p models && head -n 1 data/in.csv > models/top.txt && pwd > models/where.txt
    deps: [data/in.csv]
    outs: [models/top.txt, models/where.txt]
  both:
    run: cat \${stages.top.outputs.models/top.txt} \${stages.count.outputs.out/count.txt} > both.txt
    outs: [both.txt]
`;

const FILES = {
  'mlpipe.yaml': '# the project root\n',
  'data/in.csv': 'a,b\n1,2\n3,4\n',
  'scripts/count.sh': 'wc -l < "$1" | tr -d " "\n',
  'pipelines/layout/pipeline.yaml': SPEC,
};

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

const specFile = () => ws!.path('pipelines/layout/pipeline.yaml');
const runsDir = () => ws!.path('pipelines/layout/runs');

async function load(): Promise<PipelineSpec> {
  const loaded = await loadSpec(specFile(), { kinds: stageKinds });
  if (!loaded.ok) throw new Error(`spec did not load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.spec;
}

const run = async (opts: { isolated?: boolean } = {}) =>
  runPipeline({ spec: await load(), runsDir: runsDir(), jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine, ...opts });

async function errorsOf(spec: string, files: Record<string, string> = FILES): Promise<string[]> {
  ws = await makeWorkspace({ ...files, 'pipelines/layout/pipeline.yaml': spec });
  const loaded = await loadSpec(specFile(), { kinds: stageKinds });
  return loaded.ok ? [] : loaded.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.path}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`);
}

describe('paths inside the project root', () => {
  it('reads and writes ../ paths of the project, keyed relative to the spec folder; wdir is where the command runs', async () => {
    ws = await makeWorkspace(FILES);
    const spec = await load();
    expect(spec.root).toBe(ws.dir);
    expect(spec.stages.count!.inputs).toEqual(['../../data/in.csv', '../../scripts/count.sh']);
    expect(spec.stages.top!.inputs).toEqual(['../../data/in.csv']);
    expect(spec.stages.both!.needs).toEqual(['count', 'top']);
    const first = await run();
    expect(first.stages.map((s) => [s.name, s.status])).toEqual([
      ['count', 'completed'],
      ['top', 'completed'],
      ['both', 'completed'],
    ]);
    expect(await readFile(ws.path('models/top.txt'), 'utf8')).toBe('a,b\n');
    expect((await readFile(ws.path('models/where.txt'), 'utf8')).trim()).toBe(ws.dir);
    expect(await readFile(ws.path('pipelines/layout/both.txt'), 'utf8')).toBe('a,b\n3\n');

    await rm(ws.path('models'), { recursive: true });
    expect((await run()).stages.map((s) => s.cached)).toEqual([true, true, true]);
    expect(await readFile(ws.path('models/top.txt'), 'utf8')).toBe('a,b\n');

    await writeFile(ws.path('data/in.csv'), 'x,y\n1,2\n');
    const plan = await planPipeline(await load(), runsDir());
    expect(plan.stages.map((s) => [s.name, s.action, reasonText(s.reasons[0]!).replace(/\(.*\)/, '(…)')])).toEqual([
      ['count', 'run', 'input ../../data/in.csv changed (…)'],
      ['top', 'run', 'input ../../data/in.csv changed (…)'],
      ['both', 'pending', 'upstream count re-runs'],
    ]);
  });

  it('runs a stage with ../ paths and a wdir in a temporary copy of the project (isolated runs)', async () => {
    ws = await makeWorkspace(FILES);
    const result = await run({ isolated: true });
    expect(result.stages.map((s) => [s.name, s.status, s.error])).toEqual([
      ['count', 'completed', undefined],
      ['top', 'completed', undefined],
      ['both', 'completed', undefined],
    ]);
    await expect(readFile(ws.path('models/top.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses paths and a wdir that leave the project root, at their file:line:col', async () => {
    const escaping = SPEC.replace('deps: [../../data/in.csv, ../../scripts/count.sh]', 'deps: [../../../secret.txt, ../../scripts/count.sh]').replace('wdir: ../..', 'wdir: ../../..');
    expect(await errorsOf(escaping)).toEqual([
      '5:12 stages.count.deps[0]: expected a path inside the project root, got "../../../secret.txt" (hint: relative paths may reach anywhere inside the project root, here ../.. from the spec folder (it holds mlpipe.yaml); write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both)',
      '8:11 stages.top.wdir: expected a folder inside the project root, got "../../.." (hint: relative paths may reach anywhere inside the project root, here ../.. from the spec folder (it holds mlpipe.yaml); write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both)',
    ]);
  });

  it('paths relative to a wdir that leave the root are refused naming the wdir', async () => {
    expect(await errorsOf(SPEC.replace('deps: [data/in.csv]', 'deps: [../data/in.csv]'))).toEqual([
      expect.stringMatching(/^10:12 stages\.top\.deps\[0\]: expected a path inside the project root, got "\.\.\/data\/in\.csv" \(relative to wdir \.\.\/\.\.\) \(hint: /),
    ]);
  });

  it('without mlpipe.yaml or a git root the spec folder is the root, and ../ is refused', async () => {
    const { 'mlpipe.yaml': _, ...noConfig } = FILES;
    const errors = await errorsOf(SPEC, noConfig);
    expect(errors[0]).toBe(
      '5:12 stages.count.deps[0]: expected a path inside the project root, got "../../data/in.csv" (hint: relative paths may reach anywhere inside the project root, here the spec folder itself (no mlpipe.yaml or .git above it); write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both)',
    );
  });

  it('a git root is the project root when there is no mlpipe.yaml', async () => {
    const { 'mlpipe.yaml': _, ...noConfig } = FILES;
    expect(await errorsOf(SPEC, { ...noConfig, '.git/HEAD': 'ref: refs/heads/main\n' })).toEqual([]);
  });

  it('an absolute wdir is refused', async () => {
    expect((await errorsOf(SPEC.replace('wdir: ../..', 'wdir: /tmp')))[0]).toBe(
      '8:11 stages.top.wdir: expected a folder relative to the spec folder, got the absolute path "/tmp" (hint: write it relative to the spec folder, e.g. wdir: .. for the folder above)',
    );
  });
});
