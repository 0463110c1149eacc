import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access, readFile } from 'node:fs/promises';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// foreach / matrix templates (issue 15 item 1) through the built CLI: --stage by group and by member,
// a templated stage reading another templated stage's outs, and a hostile item value in run:.
let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace({
    'pipeline.yaml': `name: templates
stages:
  prep:
    run: echo base > base.txt
    outs: [base.txt]
  fit:
    foreach:
      small: { n: 1 }
      large: { n: 2 }
    do:
      run: cat base.txt > model-\${key}.txt && echo \${key} \${item.n} >> model-\${key}.txt
      deps: [base.txt]
      outs: ["model-\${key}.txt"]
  score:
    matrix:
      model: [small, large]
      k: [1, 2]
    run: cat model-\${item.model}.txt > score-\${key}.txt && echo k=\${item.k} >> score-\${key}.txt
    deps: ["model-\${item.model}.txt"]
    outs: ["score-\${key}.txt"]
  say:
    foreach:
      evil: "x; touch pwned; echo $(id) 'q'"
    do:
      run: echo \${item} > said.txt
      outs: [said.txt]
`,
  });
});
afterAll(async () => ws.cleanup());

const ran = (json: any) => json.stages.map((s: any) => [s.name, s.status, s.cached]);

describe('templated stages from the CLI', () => {
  it('--stage NAME runs the whole group and what it needs', async () => {
    const r = await runJson(['run', 'pipeline.yaml', '--stage', 'fit'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(ran(r.json)).toEqual([
      ['prep', 'completed', false],
      ['fit@small', 'completed', false],
      ['fit@large', 'completed', false],
    ]);
    expect(await readFile(ws.path('model-large.txt'), 'utf8')).toBe('base\nlarge 2\n');
  });

  it('--stage NAME@POINT runs one member; its deps on another template\'s outs make the edge', async () => {
    const r = await runJson(['run', 'pipeline.yaml', '--stage', 'score@large-2'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(ran(r.json)).toEqual([
      ['prep', 'completed', true],
      ['fit@large', 'completed', true],
      ['score@large-2', 'completed', false],
    ]);
    expect(await readFile(ws.path('score-large-2.txt'), 'utf8')).toBe('base\nlarge 2\nk=2\n');
  });

  it('an item value arrives in run: as text, never as shell', async () => {
    const r = await runJson(['run', 'pipeline.yaml', '--stage', 'say@evil'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(ws.path('said.txt'), 'utf8')).toBe("x; touch pwned; echo $(id) 'q'\n");
    await expect(access(ws.path('pwned'))).rejects.toThrow();
  });

  it('an unknown member is refused with the templates listed; a template problem points at its node', async () => {
    const r = await runCli(['run', 'pipeline.yaml', '--stage', 'fit@medium'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown stage fit@medium');
    expect(r.stderr).toContain('templates: fit, score, say');
    const bad = await makeWorkspace({ 'pipeline.yaml': 'name: b\nstages:\n  t:\n    foreach: [a, b]\n    do:\n      run: echo ${item.x}\n' });
    try {
      const v = await runCli(['validate', 'pipeline.yaml'], { cwd: bad.dir });
      expect(v.code).toBe(2);
      expect(v.stderr).toContain('pipeline.yaml:6:17 stages.t@*.run: expected a key of a mapping item, got ${item.x}');
    } finally {
      await bad.cleanup();
    }
  });
});
