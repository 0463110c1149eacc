import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/config/config-error.js';
import { addRemote, removeRemote, setConfigValue, setDefaultRemote, unsetConfigValue } from '../../../src/core/config/edit-config.js';
import { tempProjects } from './temp-project.js';

// Issue 11 item 1: edits of mlpipe.yaml keep the user's comments and key order, and are validated before writing.

const project = tempProjects();

const WRITTEN = `# Team settings: reviewed in PRs.
executor: local # stages run here

# where results are shared
tracker: postgresql://ana@db.internal:5432/mlpipe
`;

describe('editing mlpipe.yaml', () => {
  it('set, unset and remote edits keep comments and the order of keys', async () => {
    const ws = await project({ 'mlpipe.yaml': WRITTEN, 'sub/x': '' });
    const cwd = ws.path('sub');
    setConfigValue('autopush', 'true', cwd);
    addRemote('origin', { url: 's3://team/cache', endpoint: 'http://127.0.0.1:9000', pathStyle: true }, {}, cwd);
    addRemote('nfs', { url: '/mnt/cache' }, {}, cwd);
    let text = await readFile(ws.path('mlpipe.yaml'), 'utf8');
    expect(text).toBe(`# Team settings: reviewed in PRs.
executor: local # stages run here

# where results are shared
tracker: postgresql://ana@db.internal:5432/mlpipe
autopush: true
remotes:
  origin:
    url: s3://team/cache
    endpoint: http://127.0.0.1:9000
    path_style: true
  nfs:
    url: /mnt/cache
default_remote: origin
`);
    setDefaultRemote('nfs', cwd);
    removeRemote('origin', cwd);
    unsetConfigValue('autopush', cwd);
    removeRemote('nfs', cwd);
    text = await readFile(ws.path('mlpipe.yaml'), 'utf8');
    expect(text).toBe(WRITTEN);
  });

  it('creates the file at the project root (the git root) when there is none', async () => {
    const ws = await project({ '.git/HEAD': 'ref: refs/heads/main\n', 'pipelines/x/p.yaml': '' });
    const result = addRemote('origin', { url: '../cache' }, {}, ws.path('pipelines/x'));
    expect(result).toMatchObject({ file: ws.path('mlpipe.yaml'), created: true, isDefault: true });
    const text = await readFile(ws.path('mlpipe.yaml'), 'utf8');
    expect(text).toMatch(/^# mlpipe project configuration/);
    expect(text).toMatch(/remotes:\n {2}origin:\n {4}url: \.\.\/cache\ndefault_remote: origin\n$/);
  });

  it('refuses a bad value or a secret and leaves the file as it was', async () => {
    const ws = await project({ 'mlpipe.yaml': WRITTEN });
    expect(() => setConfigValue('executor', 'cluster', ws.dir)).toThrow(ConfigError);
    expect(() => setConfigValue('tracker', 'postgresql://ana:hunter2@db/x', ws.dir)).toThrow(ConfigError);
    expect(() => setConfigValue('remotes.origin.secret_access_key', 'abc', ws.dir)).toThrow(/is a secret, and secrets never go into mlpipe\.yaml/);
    expect(() => setConfigValue('trackr', 'x', ws.dir)).toThrow(/unknown setting "trackr"/);
    expect(() => setConfigValue('autopush', 'maybe', ws.dir)).toThrow(/autopush is true or false/);
    expect(() => setDefaultRemote('origin', ws.dir)).toThrow(/no remote named "origin" \(no remotes are configured\)/);
    expect(await readFile(ws.path('mlpipe.yaml'), 'utf8')).toBe(WRITTEN);
  });

  it('adding a remote that exists needs force', async () => {
    const ws = await project({ 'mlpipe.yaml': 'remotes:\n  origin: { url: /a }\ndefault_remote: origin\n' });
    expect(() => addRemote('origin', { url: '/b' }, {}, ws.dir)).toThrow(/a remote named "origin" exists \(\/a\)/);
    addRemote('origin', { url: '/b' }, { force: true }, ws.dir);
    expect(await readFile(ws.path('mlpipe.yaml'), 'utf8')).toMatch(/url: \/b/);
  });
});
