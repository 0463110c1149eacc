import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// The usual project layout, run by the README's commands: mlpipe.yaml at the root, data/ and
// scripts/ beside pipelines/NAME/pipeline.yaml, every path relative, one stage with a wdir.
let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace({
    'mlpipe.yaml': '# the project root\n',
    'data/in.csv': 'a,b\n1,2\n3,4\n',
    'scripts/count.mjs': "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync(process.argv[2], 'utf8').trim().split('\\n').length - 1);\n",
    'pipelines/count/pipeline.yaml': `name: count
stages:
  count:
    run: node ../../scripts/count.mjs ../../data/in.csv > rows.txt
    deps: [../../scripts/count.mjs, ../../data/in.csv]
    outs: [rows.txt]
  report:
    wdir: ../..
    run: [mkdir -p reports, "cat \${stages.count.outputs.rows.txt} > reports/rows.txt"]
    outs: [reports/rows.txt]
`,
  });
});
afterAll(async () => ws.cleanup());

describe('a project with data/ and pipelines/NAME/pipeline.yaml', () => {
  it('runs from the project root with relative paths only, and restores everything the second time', async () => {
    const first = await runJson(['run', 'pipelines/count/pipeline.yaml', '--json'], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['count', 'completed', false],
      ['report', 'completed', false],
    ]);
    expect(await readFile(ws.path('pipelines/count/rows.txt'), 'utf8')).toBe('2\n');
    expect(await readFile(ws.path('reports/rows.txt'), 'utf8')).toBe('2\n');
    const second = await runJson(['run', 'pipelines/count/pipeline.yaml', '--json'], { cwd: ws.dir });
    expect(second.json.stages.map((s: any) => s.cached)).toEqual([true, true]);
  });

  it('refuses a path that leaves the project root with exit 2 and file:line:col', async () => {
    const bad = await makeWorkspace({ 'mlpipe.yaml': '# root\n', 'pipelines/x/pipeline.yaml': 'name: x\nstages:\n  a:\n    run: cat ../../../etc/passwd\n    deps: [../../../etc/passwd]\n' });
    try {
      const r = await runCli(['validate', 'pipelines/x/pipeline.yaml'], { cwd: bad.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('pipelines/x/pipeline.yaml:5:12 stages.a.deps[0]: expected a path inside the project root, got "../../../etc/passwd"');
    } finally {
      await bad.cleanup();
    }
  });
});
