import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSpec } from '../../../src/core/spec/load-spec.js';
import { stageKinds } from '../../../src/stages/index.js';
import { runPipeline } from '../../../src/core/run/run-pipeline.js';
import { reasonLine } from '../../../src/render/reasons.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';
import { GOLDEN_PIPELINE as PIPELINE } from '../cache/golden-pipeline.js';

// Issue 11 item 4: the lock file is for git. A fixed spec over fixed inputs gives a fixed file, byte
// for byte, wherever it runs; if this literal has to change, the format changed: say why in the commit.

const workspaces: Workspace[] = [];
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.cleanup()));
});

async function runIn(ws: Workspace) {
  const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
  if (!loaded.ok) throw new Error('spec did not load');
  const summary = await runPipeline({ spec: loaded.spec, runsDir: join(ws.dir, 'runs'), jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });
  expect(summary.status).toBe('completed');
  return { summary, text: await readFile(ws.path('pipeline.lock'), 'utf8') };
}

async function workspace(): Promise<Workspace> {
  const ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'in.txt': 'one line\n' });
  workspaces.push(ws);
  return ws;
}

describe('the lock file', () => {
  it('of a fixed spec over fixed inputs is a fixed text', async () => {
    const { summary, text } = await runIn(await workspace());
    expect(summary.lock).toMatchObject({ changed: true });
    expect(text).toBe(GOLDEN);
  });

  it('is byte-identical in another folder (another machine) and after a no-op re-run, which does not rewrite it', async () => {
    const first = await workspace();
    const second = await workspace();
    const a = await runIn(first);
    const b = await runIn(second);
    expect(b.text).toBe(a.text);
    expect(a.text).not.toContain(first.dir);
    expect(a.text).not.toMatch(/r-[0-9a-f]{12}|20\d\d-\d\d-\d\d/);
    const again = await runIn(first);
    expect(again.summary.stages.map((s) => s.cached)).toEqual([true, true]);
    expect(again.summary.lock).toMatchObject({ changed: false });
    expect(again.text).toBe(a.text);
  });
});

// keys as in test/core/cache/golden-key.test.ts (shell kind v3)
const GOLDEN = `# mlpipe lock file of pipeline.yaml: what produced its outputs. Written by \`mlpipe run\`; commit it with the spec, do not edit it.
schemaVersion: 1
pipeline: golden
stages:
  a:
    kind: shell
    version: 3
    key: d7d9a2895a244a6853e2c6d33960743d6d87f77b6912d2a10cfef2204ac61ee2
    params: {}
    deps:
      in.txt:
        digest: 86bbef662027a5965dac17026802d772d682e83cbae1c4bf55bd4f019bf35490
        size: 9
    upstream: {}
    outs:
      out/a.txt:
        location: workspace
        path: out/a.txt
        digest: c6efe3a8945e0576be946a71353c52d394dbd33be68efe51b0b88c0db6dd0073
        size: 18
    metrics: {}
    config:
      deps:
        - in.txt
      env: {}
      outs:
        - out/a.txt
      run: mkdir -p out && cat in.txt in.txt > out/a.txt
  b:
    kind: shell
    version: 3
    key: a85b3e400ba1dd194b4ab2624c75e51d760bb3d9c1b5d6ee027a321374536d3f
    params:
      factor: 3
    deps: {}
    upstream:
      a.out/a.txt: c6efe3a8945e0576be946a71353c52d394dbd33be68efe51b0b88c0db6dd0073
    outs:
      out/b.txt:
        location: workspace
        path: out/b.txt
        digest: 0f7c9ba578c1fb4680baa08f6a2c398320d0fd9bcebd290f8d613a8be720f582
        size: 20
    metrics: {}
    config:
      deps: []
      env:
        LANG: C
      outs:
        - out/b.txt
      run: cat \${stages.a.outputs.out/a.txt} > out/b.txt && echo 3 >> out/b.txt
`;
