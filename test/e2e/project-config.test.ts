import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('mlpipe.yaml: mlpipe remote and mlpipe config', () => {
  it('remote add / default / list / remove keep the file\'s comments; config list names each source', async () => {
    ws = await makeWorkspace({ 'mlpipe.yaml': '# team settings, keep me\ntracker: runs/team.db\n' });
    expect((await runCli(['remote', 'add', 'team', '/tmp/team-cache', '--default'], { cwd: ws.dir })).code).toBe(0);
    expect((await runCli(['remote', 'add', 'spare', 's3://bucket/prefix'], { cwd: ws.dir })).code).toBe(0);
    const sub = join(ws.dir, 'pipelines', 'x');
    await mkdir(sub, { recursive: true });
    const list = await runCli(['remote', 'list'], { cwd: sub });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/\*\s+team\s+\/tmp\/team-cache/);
    expect(list.stdout).toMatch(/\n\s+spare\s+s3:\/\/bucket\/prefix/);
    const cfg = await runJson(['config', 'list'], { cwd: sub, env: { MLPIPE_TRACKER: join(ws.dir, 'ci.db') } });
    expect(cfg.code, cfg.stderr).toBe(0);
    const text = JSON.stringify(cfg.json);
    expect(text).toContain('ci.db');
    expect(text).toMatch(/env/);
    expect((await runCli(['remote', 'default', 'spare'], { cwd: ws.dir })).code).toBe(0);
    expect((await runCli(['remote', 'remove', 'team'], { cwd: ws.dir })).code).toBe(0);
    const file = await readFile(join(ws.dir, 'mlpipe.yaml'), 'utf8');
    expect(file).toContain('# team settings, keep me');
    expect(file).toContain('default_remote: spare');
    expect(file).not.toContain('team-cache');
  });

  it('refuses a secret in the file with its line and column and a hint, exit 2', async () => {
    ws = await makeWorkspace({ 'mlpipe.yaml': 'tracker: runs/t.db\naws_secret_access_key: abc\n' });
    const r = await runCli(['config', 'list'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mlpipe\.yaml:2:1 /);
    expect(r.stderr).toMatch(/hint: .*AWS/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
