import { existsSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 14 item 9: an input inside the workspace that is a symlink to a file outside it was followed
// (a built-in stage's error echoed a line of /etc/passwd). It is refused unless explicitly allowed.

let ws: Workspace | undefined;
const others: Workspace[] = [];
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
  for (const o of others.splice(0)) await o.cleanup();
});

const spec = `name: links
stages:
  copy:
    run: cat data.txt > out.txt
    deps: [data.txt]
    outs: [out.txt]
  prepare:
    uses: preprocess
    with: { input: table.csv, target: label }
`;

describe('symlinked inputs leaving the workspace (issue 14.9)', () => {
  it('run and status refuse them (exit 2, naming link and target, no file content), before anything runs', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, 'table.csv': 'a,label\n1,x\n2,y\n' });
    symlinkSync('/etc/passwd', ws.path('data.txt'));
    for (const args of [['run', 'pipeline.yaml'], ['status', 'pipeline.yaml']]) {
      const r = await runCli(args, { cwd: ws.dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`Error: input data.txt is a symlink to /etc/passwd, outside the workspace `);
      expect(r.stderr).toContain('Hint: copy the file into the workspace, or, if reading it is intended, set MLPIPE_ALLOW_EXTERNAL_INPUTS=1');
      expect(r.stdout + r.stderr).not.toContain('root:');
    }
    expect(existsSync(ws.path('out.txt'))).toBe(false);
  });

  it('a built-in stage input linked outside is refused too', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, 'data.txt': 'inside\n' });
    symlinkSync('/etc/passwd', ws.path('table.csv'));
    const r = await runCli(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('Error: input table.csv is a symlink to /etc/passwd, outside the workspace ');
    expect(r.stdout + r.stderr).not.toContain('root:');
  });

  it('links inside the workspace are fine, and MLPIPE_ALLOW_EXTERNAL_INPUTS=1 allows an outside one', async () => {
    const shellOnly = spec.split('  prepare:')[0]!;
    ws = await makeWorkspace({ 'pipeline.yaml': shellOnly, 'real.txt': 'inside\n' });
    symlinkSync('real.txt', ws.path('data.txt'));
    const linked = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(linked.code, linked.stderr).toBe(0);

    const outside = await makeWorkspace({ 'secret.txt': 'outside\n' });
    const allowed = await makeWorkspace({ 'pipeline.yaml': shellOnly });
    others.push(outside, allowed);
    symlinkSync(outside.path('secret.txt'), allowed.path('data.txt'));
    expect((await runCli(['run', 'pipeline.yaml'], { cwd: allowed.dir })).code).toBe(2);
    const r = await runJson(['run', 'pipeline.yaml'], { cwd: allowed.dir, env: { MLPIPE_ALLOW_EXTERNAL_INPUTS: '1' } });
    expect(r.code, r.stderr).toBe(0);
  });
});
