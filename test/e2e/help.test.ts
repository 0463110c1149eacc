import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { repoRoot, runCli } from '../helpers/cli.js';
import { makeWorkspace } from '../helpers/workspace.js';
import { exitCodeHelp } from '../../src/exit-codes.js';

describe('help', () => {
  it('shows the exit codes under every command', async () => {
    for (const cmd of [['run'], ['status'], ['compare', 'runs']]) {
      const r = await runCli([...cmd, '--help'], { cwd: repoRoot });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`EXIT CODES\n${exitCodeHelp.split('\n').map((l) => `  ${l}`).join('\n')}`);
      expect(r.stdout).toContain('\n  70 a bug in mlpipe');
    }
  });

  it('answers an unknown flag with exit 2 and no stack trace', async () => {
    const r = await runCli(['run', 'x.yaml', '--no-such-flag'], { cwd: repoRoot });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Nonexistent flag: --no-such-flag');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers read-only commands in a folder with no runs with exit 2 and a hint, creating nothing', async () => {
    const ws = await makeWorkspace();
    for (const cmd of [['runs', 'list'], ['models', 'list'], ['compare', 'runs']]) {
      const r = await runCli(cmd, { cwd: ws.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no experiment tracker in ${ws.path('runs')}: nothing has been run there yet`);
    }
    expect(existsSync(ws.path('runs'))).toBe(false);
    await ws.cleanup();
  });
});
