import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadSpec } from '../../src/core/spec/load-spec.js';
import { stageKinds } from '../../src/stages/index.js';
import { runPipeline } from '../../src/core/run/run-pipeline.js';
import { localExecutor, type StageExecutor } from '../../src/core/run/executor.js';
import { reasonLine } from '../../src/render/reasons.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('stage executors', () => {
  it('sends every stage that runs through the given executor, and none that is restored', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': `name: ex
stages:
  a:
    run: mkdir -p out && echo a > out/a.txt
    outs: [out/a.txt]
  b:
    run: cat \${stages.a.outputs.out/a.txt} > out/b.txt
    outs: [out/b.txt]
`,
    });
    const calls: string[] = [];
    const recording: StageExecutor = { name: 'recording', execute: (kind, ctx) => (calls.push(ctx.stage), localExecutor.execute(kind, ctx)) };
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!loaded.ok) throw new Error('spec did not load');
    const run = () =>
      runPipeline({ spec: loaded.spec, runsDir: join(ws!.dir, 'runs'), jobs: 2, backend: 'cpu', observers: [], signal: new AbortController().signal, executor: recording, explain: reasonLine });
    expect((await run()).status).toBe('completed');
    expect(calls).toEqual(['a', 'b']);
    const again = await run();
    expect(again.stages.every((s) => s.cached)).toBe(true);
    expect(calls).toEqual(['a', 'b']);
  });
});
