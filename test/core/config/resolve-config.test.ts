import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/config/config-error.js';
import { findConfigFile, findProjectRoot } from '../../../src/core/config/find-config.js';
import { resolveConfig } from '../../../src/core/config/resolve-config.js';
import { tempProjects } from './temp-project.js';

// Issue 11 item 1: mlpipe.yaml found by walking up; flag > environment > file > default.

const project = tempProjects();

const FILE = `# the team's settings
tracker: postgresql://ana:\${env.TEAM_PG_PASSWORD}@db.internal:5432/mlpipe
remotes:
  origin: { url: s3://team-bucket/cache, endpoint: http://127.0.0.1:9000, path_style: true, region: eu-west-1 }
  nfs: { url: ../shared-cache }
default_remote: origin
autopush: true
executor: queue
queue: redis://queue.internal:6379
queue_prefix: team
`;

describe('discovery', () => {
  it('finds mlpipe.yaml in the folder or the nearest folder above, and its folder is the project root', async () => {
    const ws = await project({ 'mlpipe.yaml': 'autopush: false\n', 'pipelines/iris/pipeline.yaml': 'x: 1\n', 'pipelines/iris/mlpipe.txt': '' });
    const deep = ws.path('pipelines/iris');
    expect(findConfigFile(deep)).toBe(ws.path('mlpipe.yaml'));
    expect(findProjectRoot(deep)).toBe(ws.dir);
    expect(resolveConfig({ cwd: deep, env: {} }).file?.file).toBe(ws.path('mlpipe.yaml'));
  });

  it('takes the nearest file when there are several', async () => {
    const ws = await project({ 'mlpipe.yaml': 'queue_prefix: outer\n', 'sub/mlpipe.yaml': 'queue_prefix: inner\n' });
    expect(resolveConfig({ cwd: ws.path('sub'), env: {} }).queuePrefix).toEqual({ value: 'inner', source: 'file', origin: expect.stringMatching(/mlpipe\.yaml:1:15$/) });
  });

  it('without mlpipe.yaml the project root is the git root, else the folder itself', async () => {
    const ws = await project({ 'repo/.git/HEAD': 'ref: refs/heads/main\n', 'repo/pipelines/x/pipeline.yaml': '', 'plain/a.txt': '' });
    expect(findConfigFile(ws.path('repo/pipelines/x'))).toBeUndefined();
    expect(findProjectRoot(ws.path('repo/pipelines/x'))).toBe(ws.path('repo'));
    expect(findProjectRoot(ws.path('plain'))).toBe(ws.path('plain'));
  });

  it('a folder named mlpipe.yaml is not a configuration file', async () => {
    const ws = await project({ 'mlpipe.yaml/inside.txt': '' });
    expect(findConfigFile(ws.dir)).toBeUndefined();
  });
});

describe('precedence: flag > environment > mlpipe.yaml > default', () => {
  it('reads every setting from the file, resolving paths against the file', async () => {
    const ws = await project({ 'mlpipe.yaml': FILE, 'sub/x.txt': '' });
    const c = resolveConfig({ cwd: ws.path('sub'), env: { TEAM_PG_PASSWORD: 's3cr:t' } });
    expect(c.tracker.value).toBe('postgresql://ana:s3cr%3At@db.internal:5432/mlpipe');
    expect(c.tracker.source).toBe('file');
    expect(c.tracker.origin).toMatch(/mlpipe\.yaml:2:10$/);
    expect(c.remote.value).toEqual({ name: 'origin', url: 's3://team-bucket/cache', endpoint: 'http://127.0.0.1:9000', pathStyle: true, region: 'eu-west-1' });
    expect(c.remotes.nfs.url).toBe(join(ws.dir, '..', 'shared-cache'));
    expect([c.autopush.value, c.executor.value, c.queue.value, c.queuePrefix.value]).toEqual([true, 'queue', 'redis://queue.internal:6379', 'team']);
  });

  it('the environment overrides the file, and a flag the environment', async () => {
    const ws = await project({ 'mlpipe.yaml': FILE });
    const env = { TEAM_PG_PASSWORD: 'x', MLPIPE_TRACKER: 'postgresql://ci@10.0.0.1/ci', MLPIPE_REMOTE: 'nfs', MLPIPE_EXECUTOR: 'local', MLPIPE_QUEUE: 'redis://ci:6379', MLPIPE_QUEUE_PREFIX: 'ci', MLPIPE_AUTOPUSH: '0' };
    const fromEnv = resolveConfig({ cwd: ws.dir, env });
    expect(fromEnv.tracker).toEqual({ value: 'postgresql://ci@10.0.0.1/ci', source: 'env', origin: 'MLPIPE_TRACKER' });
    expect(fromEnv.remote.value?.name).toBe('nfs');
    expect(fromEnv.remote.source).toBe('env');
    expect([fromEnv.executor.value, fromEnv.queue.value, fromEnv.queuePrefix.value, fromEnv.autopush.value]).toEqual(['local', 'redis://ci:6379', 'ci', false]);
    const fromFlags = resolveConfig({
      cwd: ws.dir,
      env,
      flags: { tracker: 'other.db', remote: '/mnt/cache', executor: 'queue', queue: 'redis://flag:1', queuePrefix: 'flag', autopush: true },
    });
    expect(fromFlags.tracker).toEqual({ value: 'other.db', source: 'flag', origin: '--tracker' });
    expect(fromFlags.remote).toEqual({ value: { url: '/mnt/cache' }, source: 'flag', origin: '--remote' });
    expect([fromFlags.executor.source, fromFlags.queue.value, fromFlags.queuePrefix.value, fromFlags.autopush.value]).toEqual(['flag', 'redis://flag:1', 'flag', true]);
  });

  it('defaults when nothing says otherwise', async () => {
    const ws = await project({});
    const c = resolveConfig({ cwd: ws.dir, env: {} });
    expect(c.file).toBeUndefined();
    expect(c.tracker).toEqual({ value: undefined, source: 'default', origin: 'default' });
    expect(c.remote.value).toBeUndefined();
    expect([c.autopush.value, c.executor.value, c.queue.value, c.queuePrefix.value]).toEqual([false, 'local', 'redis://127.0.0.1:6379', 'mlpipe']);
    expect(new Set([c.autopush.source, c.executor.source, c.queue.source, c.queuePrefix.source])).toEqual(new Set(['default']));
  });

  it('an SQLite tracker in the file is relative to the file, one from a flag or the environment to the current folder', async () => {
    const ws = await project({ 'mlpipe.yaml': 'tracker: state/tracker.db\n', 'sub/x': '' });
    expect(resolveConfig({ cwd: ws.path('sub'), env: {} }).tracker.value).toBe(ws.path('state/tracker.db'));
    expect(resolveConfig({ cwd: ws.path('sub'), env: { MLPIPE_TRACKER: 'mine.db' } }).tracker.value).toBe('mine.db');
  });

  it('--remote takes a configured name or a URL / folder; an unknown bare name is an error naming the remotes', async () => {
    const ws = await project({ 'mlpipe.yaml': FILE });
    const remote = (v: string) => resolveConfig({ cwd: ws.dir, env: { TEAM_PG_PASSWORD: 'x' }, flags: { remote: v } }).remote.value;
    expect(remote('nfs')?.name).toBe('nfs');
    expect(remote('s3://other/x')).toEqual({ url: 's3://other/x' });
    expect(remote('./local-cache')).toEqual({ url: ws.path('local-cache') });
    expect(() => remote('orgin')).toThrow(/--remote names the remote "orgin", but the configured remotes are origin, nfs/);
  });

  it('a bad environment value is an error naming the variable, raised only when that setting is read', async () => {
    const ws = await project({});
    const c = resolveConfig({ cwd: ws.dir, env: { MLPIPE_EXECUTOR: 'cluster', MLPIPE_AUTOPUSH: 'maybe' } });
    expect(c.queuePrefix.value).toBe('mlpipe');
    expect(() => c.executor).toThrow(/MLPIPE_EXECUTOR is "cluster": expected local or queue/);
    expect(() => c.autopush).toThrow(/MLPIPE_AUTOPUSH is "maybe": expected true or false/);
  });

  it('${env.NAME} that is not set is an error naming the variable and where it is written', async () => {
    const ws = await project({ 'mlpipe.yaml': FILE });
    const c = resolveConfig({ cwd: ws.dir, env: {} });
    expect(() => c.tracker).toThrow(/tracker \(mlpipe\.yaml:2:10\) names the environment variable TEAM_PG_PASSWORD/);
    expect(c.queue.value).toBe('redis://queue.internal:6379');
  });
});

describe('validation', () => {
  async function problems(text: string): Promise<string[]> {
    const ws = await project({ 'mlpipe.yaml': text });
    try {
      resolveConfig({ cwd: ws.dir, env: {} });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.path}: ${d.message}${d.hint ? ` | ${d.hint}` : ''}`);
    }
  }

  it('an unknown key is reported at its line and column with a suggestion', async () => {
    const [p, ...rest] = await problems('tracker: runs/t.db\nremotes:\n  origin:\n    url: s3://b/p\n    endpont: http://x:9000\n');
    expect(rest).toEqual([]);
    expect(p).toMatch(/^5:5 remotes\.origin\.endpont: expected a known key \(url, endpoint, region, path_style, profile\), got "endpont" \| did you mean "endpoint"/);
  });

  it('secrets are refused, each where it is written, with a hint to use the environment or an AWS profile', async () => {
    const found = await problems('remotes:\n  origin:\n    url: s3://b/p\n    aws_secret_access_key: abc\n    secret_access_key: abc\npassword: hunter2\n');
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^4:5 remotes\.origin\.aws_secret_access_key: "aws_secret_access_key" is a secret, and secrets never go into mlpipe\.yaml.*\| S3 credentials come from the standard AWS chain.*profile/);
    expect(found[1]).toMatch(/^5:5 remotes\.origin\.secret_access_key:/);
    expect(found[2]).toMatch(/^6:1 password: .*\| name an environment variable in the URL instead/);
  });

  it('a password written into a URL is refused; one named as ${env.NAME} is not', async () => {
    expect(await problems('tracker: postgresql://ana:hunter2@db/mlpipe\n')).toEqual([expect.stringMatching(/^1:10 tracker: this URL holds a password.*\$\{env\.PGPASSWORD\}/)]);
    expect(await problems('queue: redis://:hunter2@q:6379\n')).toEqual([expect.stringMatching(/^1:8 queue: this URL holds a password/)]);
    expect(await problems('tracker: postgresql://db/mlpipe?password=x\n')).toHaveLength(1);
    expect(await problems('tracker: postgresql://ana:${env.PGPASSWORD}@db/mlpipe\nqueue: redis://:${env.REDIS_PASSWORD}@q:6379\n')).toEqual([]);
  });

  it('values are checked: executor, URLs, and default_remote naming a configured remote', async () => {
    const found = await problems('executor: cluster\ntracker: mysql://db/x\nqueue: http://q\nremotes:\n  a: { url: "ftp://x/y" }\n  b: { url: s3:// }\ndefault_remote: c\n');
    expect(found[0]).toMatch(/^1:11 executor: expected one of "local", "queue", got "cluster"/);
    const again = await problems('tracker: mysql://db/x\nqueue: http://q\nremotes:\n  a: { url: "ftp://x/y" }\n  b: { url: "s3://" }\n  c: { url: s3://b, endpoint: "127.0.0.1:9000" }\ndefault_remote: d\n');
    expect(again).toEqual([
      expect.stringMatching(/^1:10 tracker: expected an SQLite file or postgresql/),
      expect.stringMatching(/^2:8 queue: expected a Redis URL/),
      expect.stringMatching(/^4:13 remotes\.a\.url: expected a remote on S3 \(s3:\/\/\) or a folder, got the scheme "ftp:"/),
      expect.stringMatching(/^5:13 remotes\.b\.url: expected s3:\/\/BUCKET\/PREFIX/),
      expect.stringMatching(/^6:31 remotes\.c\.endpoint: expected an http:\/\/ or https:\/\/ endpoint/),
      expect.stringMatching(/^7:17 default_remote: names the remote "d", which is not under remotes \(a, b, c\)/),
    ]);
  });

  it('a YAML syntax error is reported at its line, an empty file is no settings', async () => {
    expect(await problems('remotes: [\n')).toEqual([expect.stringMatching(/^1:10 : invalid YAML: the "\[" opened at 1:10 is never closed/)]);
    expect(await problems('# nothing yet\n')).toEqual([]);
    expect(await problems('- a\n')).toEqual([expect.stringMatching(/expected a mapping of settings/)]);
  });
});

it('the walk stops at the filesystem root without a file', async () => {
  const ws = await project({});
  await mkdir(join(ws.dir, 'a/b/c'), { recursive: true });
  await writeFile(join(ws.dir, 'a/b/c/file'), '');
  expect(findConfigFile(join(ws.dir, 'a/b/c'))).toBeUndefined();
});
