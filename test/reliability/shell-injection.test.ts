import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 14 item 1: a param passed by CI (a branch name, a tag, user text) never runs as shell.

const workspaces: Workspace[] = [];
afterEach(async () => {
  for (const ws of workspaces.splice(0)) await ws.cleanup();
});

const payloads = ['x; touch PWNED1', 'x$(touch PWNED2)', 'x`touch PWNED3`', 'x && touch PWNED4', "x' ; touch PWNED5 ; '", 'x" ; touch PWNED6 ; "'];

const spec = `name: injection
params: { ${payloads.map((_, i) => `p${i}: safe`).join(", ")} }
stages:
${payloads
  .map(
    (_, i) => `  s${i}:
    run: |-
      mkdir -p out && printf '%s\\n' ${i % 2 === 0 ? `\${params.p${i}}` : `"\${params.p${i}}"`} 'single: \${params.p${i}}' > out/${i}.txt
    outs: [out/${i}.txt]
`,
  )
  .join('')}`;

const rawSpec = `name: raw
params: { flags: "" }
stages:
  raw:
    run: mkdir -p out && (echo \${raw.params.flags}) > out/raw.txt
    outs: [out/raw.txt]
`;

describe('params in run: commands (issue 14.1)', () => {
  it('--set payloads reach the command as text: no file is created, the outs hold the payload', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': spec });
    workspaces.push(ws);
    const sets = payloads.flatMap((p, i) => ['--set', `params.p${i}=${p}`]);
    const r = await runJson(['run', 'pipeline.yaml', ...sets], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('completed');
    for (const [i, p] of payloads.entries()) {
      expect(existsSync(ws.path(`PWNED${i + 1}`)), p).toBe(false);
      expect(readFileSync(ws.path(`out/${i}.txt`), 'utf8')).toBe(`${p}\nsingle: ${p}\n`);
    }
  });

  it('${raw.params.x}, the documented opt-in, splices shell text on purpose', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': rawSpec });
    workspaces.push(ws);
    const r = await runJson(['run', 'pipeline.yaml', '--set', 'params.flags=a; touch RAW'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(ws.path('out/raw.txt'), 'utf8')).toBe('a\n');
    expect(existsSync(ws.path('RAW'))).toBe(true);
  });
});
