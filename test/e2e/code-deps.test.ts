import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// js: a.mjs (not in deps) imports lib/b.mjs; py: python -m pkg.main, which imports pkg/util.py;
// off: the same script as js, with code_deps: false. Each command appends its stage name to runs.log.
const files = {
  'mlpipe.yaml': 'tracker: runs/tracker.db\n',
  'pipeline.yaml': `name: code
stages:
  js:
    run: node a.mjs > out/js.txt && echo js >> runs.log
    outs: [out/js.txt]
  py:
    run: python3 -m pkg.main > out/py.txt && echo py >> runs.log
    outs: [out/py.txt]
  off:
    run: node a.mjs > out/off.txt && echo off >> runs.log
    outs: [out/off.txt]
    code_deps: false
`,
  'a.mjs': "import { b } from './lib/b.mjs';\nconst { c } = await import('./lib/c.mjs');\nconsole.log(`b=${b} c=${c}`);\n",
  'lib/b.mjs': 'export const b = 1;\n',
  'lib/c.mjs': 'export const c = 1;\n',
  'pkg/__init__.py': '',
  'pkg/main.py': 'from . import util\nprint("v=%d" % util.V)\n',
  'pkg/util.py': 'V = 1\n',
  'out/.keep': '',
};

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

const stageOf = (json: any, name: string) => json.stages.find((s: any) => s.name === name);

describe('code fingerprints (issue 15 item 13)', () => {
  it('editing a module the script imports re-runs the stage, naming the file; code_deps: false keeps the stale result', async () => {
    ws = await makeWorkspace(files);
    const first = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(ws.path('out/js.txt'), 'utf8')).toBe('b=1 c=1\n');
    expect(await readFile(ws.path('out/py.txt'), 'utf8')).toBe('v=1\n');

    const noop = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(noop.json.stages.map((s: any) => [s.name, s.cached])).toEqual([['js', true], ['py', true], ['off', true]]);

    await writeFile(ws.path('lib/b.mjs'), 'export const b = 2;\n');
    await writeFile(ws.path('pkg/util.py'), 'V = 2\n');
    const status = await runCli(['status', 'pipeline.yaml'], { cwd: ws.dir });
    expect(status.stdout).toMatch(/js\s+run\s+code lib\/b\.mjs changed \(\w{4}… → \w{4}…\)/);
    expect(status.stdout).toMatch(/py\s+run\s+code pkg\/util\.py changed/);
    expect(status.stdout).toMatch(/off\s+cached\s+restore/);

    const second = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(second.code, second.stderr).toBe(0);
    expect(stageOf(second.json, 'js')).toMatchObject({ cached: false, reason: expect.stringMatching(/^code lib\/b\.mjs changed/) });
    expect(stageOf(second.json, 'js').reasons).toContainEqual({ kind: 'code-changed', path: 'lib/b.mjs', from: expect.any(String), to: expect.any(String) });
    expect(stageOf(second.json, 'py')).toMatchObject({ cached: false, reason: expect.stringMatching(/^code pkg\/util\.py changed/) });
    expect(stageOf(second.json, 'off')).toMatchObject({ cached: true });
    expect(await readFile(ws.path('out/js.txt'), 'utf8')).toBe('b=2 c=1\n');
    expect(await readFile(ws.path('out/py.txt'), 'utf8')).toBe('v=2\n');
    expect(await readFile(ws.path('out/off.txt'), 'utf8')).toBe('b=1 c=1\n'); // stale, as asked
    // stages run at once: the lines come in any order
    expect((await readFile(ws.path('runs.log'), 'utf8')).split('\n').filter(Boolean).sort()).toEqual(['js', 'js', 'off', 'py', 'py']);

    // A newly imported module is named too; an unrelated file changes nothing.
    await writeFile(ws.path('lib/c.mjs'), "export { d as c } from './d.mjs';\n");
    await writeFile(ws.path('lib/d.mjs'), 'export const d = 4;\n');
    await writeFile(ws.path('lib/unrelated.mjs'), 'export {};\n');
    const third = await runJson(['run', 'pipeline.yaml', '--stage', 'js'], { cwd: ws.dir });
    expect(stageOf(third.json, 'js').reasons.map((r: any) => [r.kind, r.path])).toEqual([
      ['code-changed', 'lib/c.mjs'],
      ['code-changed', 'lib/d.mjs'],
    ]);
    expect(await readFile(ws.path('out/js.txt'), 'utf8')).toBe('b=2 c=4\n');
  });

  it('isolated sweep points get the code files the command runs, though no deps list them', async () => {
    ws = await makeWorkspace({
      'mlpipe.yaml': 'tracker: runs/tracker.db\n',
      'pipeline.yaml': `name: codesweep
params:
  x: 1
stages:
  point:
    run: node point.mjs \${params.x}
    outs: [out/result.json]
    metrics: out/result.json
`,
      'point.mjs': "import { mkdirSync, writeFileSync } from 'node:fs';\nimport { scale } from './lib/scale.mjs';\nmkdirSync('out', { recursive: true });\nwriteFileSync('out/result.json', JSON.stringify({ y: scale(Number(process.argv[2])) }));\n",
      'lib/scale.mjs': 'export const scale = (x) => x * 10;\n',
    });
    const r = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.x=1,2', '--jobs', '2'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.points.map((p: any) => [p.status, p.metrics['point.y']])).toEqual([
      ['completed', 10],
      ['completed', 20],
    ]);
  });
});
