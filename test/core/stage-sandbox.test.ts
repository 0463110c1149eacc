import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSpec } from '../../src/core/spec/load-spec.js';
import { stageKinds } from '../../src/stages/index.js';
import { runPipeline } from '../../src/core/run/run-pipeline.js';
import { localExecutor, type StageExecutor } from '../../src/core/run/executor.js';
import { reasonLine } from '../../src/render/reasons.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

/** Files below `dir`, relative, sorted. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('isolated runs', () => {
  it('give each stage a temporary workspace with only its declared deps and upstream outs, and write nothing in the workspace', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': `name: iso
stages:
  a:
    run: mkdir -p out && echo a > out/a.txt
    outs: [out/a.txt]
  b:
    run: cat \${stages.a.outputs.out/a.txt} data/in.txt > out/b.txt
    deps: [data/in.txt]
    outs: [out/b.txt]
`,
      'data/in.txt': 'in\n',
      'data/other.txt': 'not declared\n',
      'notes.md': 'not declared either\n',
    });
    const seen: Record<string, string[]> = {};
    const looking: StageExecutor = {
      name: 'looking',
      execute: async (kind, ctx) => {
        seen[ctx.stage] = await filesIn(ctx.workspace);
        return localExecutor.execute(kind, ctx);
      },
    };
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    if (!loaded.ok) throw new Error('spec did not load');
    const summary = await runPipeline({
      spec: loaded.spec,
      runsDir: join(ws.dir, 'runs'),
      jobs: 2,
      backend: 'cpu',
      observers: [],
      signal: new AbortController().signal,
      executor: looking,
      explain: reasonLine,
      isolated: true,
    });
    expect(summary.status).toBe('completed');
    expect(seen).toEqual({ a: [], b: ['data/in.txt', 'out/a.txt'] });
    await expect(stat(ws.path('out'))).rejects.toThrow();
    expect(await readdir(join(ws.dir, 'runs', 'tmp'))).toEqual([]);
    const b = summary.stages.find((s) => s.name === 'b')!;
    expect(b.status).toBe('completed');
    const digest = summary.artifacts.find((a) => a.stage === 'b')!.digest;
    const object = join(ws.dir, 'runs', 'cache', 'objects', digest.slice(0, 2), digest.slice(2));
    expect(await readFile(object, 'utf8')).toBe('a\nin\n');
  });
});

describe('isolated runs and code fingerprints', () => {
  it('materialize the code files the command runs, also above the spec folder (inside the project root), though no deps list them', async () => {
    ws = await makeWorkspace({
      'mlpipe.yaml': '',
      'pipelines/x/pipeline.yaml': `name: isocode
stages:
  gen:
    run: node ../../tools/gen.mjs > out.txt
    outs: [out.txt]
`,
      'tools/gen.mjs': "import { word } from './lib/word.mjs';\nconsole.log(word);\n",
      'tools/lib/word.mjs': "export const word = 'from-an-import';\n",
      'tools/lib/unused.mjs': 'export {};\n',
    });
    const seen: string[] = [];
    const looking: StageExecutor = {
      name: 'looking',
      execute: async (kind, ctx) => {
        seen.push(...(await filesIn(join(ctx.workspace, '..', '..'))));
        return localExecutor.execute(kind, ctx);
      },
    };
    const loaded = await loadSpec(ws.path('pipelines/x/pipeline.yaml'), { kinds: stageKinds, root: ws.dir });
    if (!loaded.ok) throw new Error('spec did not load');
    const summary = await runPipeline({
      spec: loaded.spec,
      runsDir: join(ws.dir, 'runs'),
      jobs: 1,
      backend: 'cpu',
      observers: [],
      signal: new AbortController().signal,
      executor: looking,
      explain: reasonLine,
      isolated: true,
    });
    expect(summary.status, summary.stages[0]?.error).toBe('completed');
    expect(seen).toEqual(['tools/gen.mjs', 'tools/lib/word.mjs']);
    expect(summary.stages[0]?.cached).toBe(false);
  });
});
