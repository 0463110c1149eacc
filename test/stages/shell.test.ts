import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSpec } from '../../src/core/spec/load-spec.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import { stageKinds } from '../../src/stages/index.js';
import { planPipeline, runPipeline } from '../../src/core/run/run-pipeline.js';
import { reasonLine } from '../../src/render/reasons.js';
import { renderPlan } from '../../src/render/plan-text.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

async function load(file = 'pipeline.yaml', set: string[] = []): Promise<PipelineSpec> {
  const loaded = await loadSpec(ws!.path(file), { kinds: stageKinds, set });
  if (!loaded.ok) throw new Error(`spec did not load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.spec;
}

const runsDir = () => join(ws!.dir, 'runs');
const run = (spec: PipelineSpec) =>
  runPipeline({ spec, runsDir: runsDir(), jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });

describe('shell stages: commands', () => {
  it('a multi-line run: stops at its first failing line, and the stage fails with nothing cached', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: t\nstages:\n  a:\n    run: |\n      false\n      echo made > out.txt\n    outs: [out.txt]\n' });
    const result = await run(await load());
    expect(result.status).toBe('failed');
    expect(result.stages[0]).toMatchObject({ name: 'a', status: 'failed', error: 'command exited with code 1' });
    await expect(readFile(ws.path('out.txt'))).rejects.toThrow(/ENOENT/);
    const plan = await planPipeline(await load(), runsDir());
    expect(plan.stages[0]!.action).toBe('run');
  });

  it('a list of commands runs them in order, each in its own shell, params quoted into each', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': 'name: t\nparams:\n  word: "a b; echo injected"\nstages:\n  a:\n    run:\n      - echo one > out.txt\n      - cd sub && echo ${params.word} >> ../out.txt\n      - test -e ../out.txt && echo nested >> out.txt || echo top >> out.txt\n    outs: [out.txt]\n',
      'sub/.keep': '',
    });
    const result = await run(await load());
    expect(result.status).toBe('completed');
    expect(await readFile(ws.path('out.txt'), 'utf8')).toBe('one\na b; echo injected\ntop\n');
  });

  it('a list of commands stops at the first that fails, naming it; the rest do not run', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: t\nstages:\n  a:\n    run: [echo one > out.txt, exit 4, echo three > three.txt]\n    outs: [out.txt]\n' });
    const result = await run(await load());
    expect(result.stages[0]).toMatchObject({ status: 'failed', error: 'command 2 of 3 exited with code 4' });
    await expect(readFile(ws.path('three.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses an empty list of commands with file:line:col', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: t\nstages:\n  a:\n    run: []\n' });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.diagnostics[0]).toMatchObject({ path: 'stages.a.run', pos: { line: 4, col: 10 } });
  });
});

describe('shell stages: persist outs', () => {
  const PIPELINE = (persist: boolean) =>
    `name: t\nstages:\n  a:\n    run: cat in.txt >> ckpt.txt\n    deps: [in.txt]\n    outs: [${persist ? '{ path: ckpt.txt, persist: true }' : 'ckpt.txt'}]\n`;

  it('a persist out is left in place while the command runs, so the command resumes from it', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE(true), 'in.txt': 'one\n' });
    expect((await run(await load())).status).toBe('completed');
    await writeFile(ws.path('in.txt'), 'two\n');
    expect((await run(await load())).status).toBe('completed');
    expect(await readFile(ws.path('ckpt.txt'), 'utf8')).toBe('one\ntwo\n');
  });

  it('an out without persist is deleted before the command runs', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE(false), 'in.txt': 'one\n' });
    await run(await load());
    await writeFile(ws.path('in.txt'), 'two\n');
    await run(await load());
    expect(await readFile(ws.path('ckpt.txt'), 'utf8')).toBe('two\n');
  });
});

describe('frozen stages', () => {
  const PIPELINE = (frozen: boolean) =>
    `name: t\nstages:\n  a:\n    run: cat in.txt > a.txt\n    deps: [in.txt]\n    outs: [a.txt]\n${frozen ? '    frozen: true\n' : ''}  b:\n    run: cat a.txt a.txt > b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n`;

  it('never runs: keeps the outputs of its last run although its input changed; status says frozen', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE(false), 'in.txt': 'one\n' });
    const first = await run(await load());
    await writeFile(ws.path('pipeline.yaml'), PIPELINE(true));
    await writeFile(ws.path('in.txt'), 'two\n');
    await writeFile(ws.path('a.txt'), 'edited by hand\n');
    const plan = await planPipeline(await load(), runsDir());
    expect(plan.stages.map((s) => [s.name, s.action, s.frozen === true, s.reasons[0]])).toEqual([
      ['a', 'restore', true, { kind: 'frozen', runId: first.runId }],
      ['b', 'restore', false, { kind: 'identical-inputs' }],
    ]);
    expect(renderPlan(plan).split('\n').slice(0, 2)).toEqual(['t: 0 to run, 1 cached, 1 frozen', `  a      frozen   keeps the outputs of ${first.runId.slice(0, 8)} (frozen: true)`]);
    const second = await run(await load());
    expect(second.stages.map((s) => [s.name, s.status, s.cachedFrom])).toEqual([
      ['a', 'completed', first.runId],
      ['b', 'completed', first.runId],
    ]);
    expect(await readFile(ws.path('a.txt'), 'utf8')).toBe('one\n');
    const forced = await runPipeline({ spec: await load(), runsDir: runsDir(), force: true, jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });
    expect(forced.stages.map((s) => [s.name, s.cached])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(await readFile(ws.path('a.txt'), 'utf8')).toBe('one\n');
  });

  it('a frozen stage that never ran is an error naming its file:line:col', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE(true), 'in.txt': 'one\n' });
    await expect(planPipeline(await load(), runsDir())).rejects.toThrow(
      `${ws.path('pipeline.yaml')}:3:3 stage a is frozen (frozen: true) but has no completed run whose outputs it could keep`,
    );
  });
});

describe('shell stages: metrics files', () => {
  it('a metrics file not listed in outs is cached and restored with the run it belongs to', async () => {
    const spec = 'name: t\nparams:\n  m: 1\nstages:\n  score:\n    run: |\n      echo "{\\"m\\": ${params.m}}" > m.json\n    metrics: m.json\n';
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    const one = await run(await load());
    expect(one.stages[0]!.metrics).toEqual({ m: 1 });
    await run(await load('pipeline.yaml', ['params.m=2']));
    expect(JSON.parse(await readFile(ws.path('m.json'), 'utf8'))).toEqual({ m: 2 });
    const back = await run(await load());
    expect(back.stages[0]).toMatchObject({ cached: true, cachedFrom: one.runId, metrics: { m: 1 } });
    expect(JSON.parse(await readFile(ws.path('m.json'), 'utf8'))).toEqual({ m: 1 });
    expect(Object.keys((await load()).stages.score!.impl.outputs((await load()).stages.score!.config))).toEqual(['m.json']);
  });
});
