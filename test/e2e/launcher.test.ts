import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/cli.js';
import { makeWorkspace } from '../helpers/workspace.js';

const run = promisify(execFile);

// The command people type: `npm run link-cli` links `mlpipe` to the package's bin, a CommonJS
// launcher (bin/mlpipe.cjs) started through its `#!/usr/bin/env node` line.
describe('the mlpipe command', () => {
  it('is the package bin, linked by link-cli, and runs a pipeline and its status through the link', async () => {
    const ws = await makeWorkspace({
      'pipeline.yaml': 'name: launcher\nstages:\n  a:\n    run: echo hi > out/a.txt\n    outs: [out/a.txt]\n',
      'out/.keep': '',
    });
    const binDir = ws.path('bin');
    const linked = await run(process.execPath, [join(repoRoot, 'scripts', 'link-cli.mjs')], { env: { ...process.env, MLPIPE_BIN_DIR: binDir } });
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.bin.mlpipe).toBe('./bin/mlpipe.cjs');
    expect(await readlink(join(binDir, 'mlpipe'))).toBe(join(repoRoot, 'bin', 'mlpipe.cjs'));
    expect(linked.stdout).toContain(`${join(binDir, 'mlpipe')} -> ${join(repoRoot, 'bin', 'mlpipe.cjs')}`);

    const env = { ...process.env, CI: 'true', NO_COLOR: '1', PATH: `${binDir}:${process.env.PATH}` };
    const version = await run('mlpipe', ['--version'], { cwd: ws.dir, env });
    expect(version.stdout).toMatch(new RegExp(`^mlpipe/${pkg.version.replaceAll('.', '\\.')} `));
    const first = await run('mlpipe', ['run', 'pipeline.yaml'], { cwd: ws.dir, env });
    expect(first.stderr).toContain('1 ran, 0 cached');
    expect(await readFile(ws.path('out/a.txt'), 'utf8')).toBe('hi\n');
    const again = await run('mlpipe', ['run', 'pipeline.yaml'], { cwd: ws.dir, env });
    expect(again.stderr).toContain('0 ran, 1 cached');
    const status = await run('mlpipe', ['status', 'pipeline.yaml'], { cwd: ws.dir, env });
    expect(status.stdout).toMatch(/a\s+cached/);
    await ws.cleanup();
  });

  it('exits with the CLI exit code through the link (2 for a bad flag, no stack trace)', async () => {
    const ws = await makeWorkspace();
    const binDir = ws.path('bin');
    await run(process.execPath, [join(repoRoot, 'scripts', 'link-cli.mjs')], { env: { ...process.env, MLPIPE_BIN_DIR: binDir } });
    const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
    const failed = await run(join(binDir, 'mlpipe'), ['run', 'x.yaml', '--no-such-flag'], { cwd: ws.dir, env }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('Nonexistent flag: --no-such-flag');
    expect(failed?.stderr).not.toMatch(/\n\s+at /);
    await ws.cleanup();
  });
});
