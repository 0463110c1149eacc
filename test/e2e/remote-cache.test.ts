import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, runCli, runJson } from '../helpers/cli.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { waitFor } from '../helpers/wait.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Two machines sharing only a remote cache: workspaces A and B are separate folders, each with its
// own runs/ (tracker, cache), holding the same pipeline files. A shell stage appends to a counter
// file outside both workspaces, so "nothing ran" is proven, not inferred.

let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server('team');
});
afterAll(async () => server?.cleanup());

const workspaces: Workspace[] = [];
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((ws) => ws.cleanup()));
});

const PIPELINE = `name: team
params:
  rows: 150
stages:
  gen:
    run: node gen.mjs \${params.rows}
    deps: [gen.mjs, raw/iris.csv]
    outs: [data/iris.csv]
  prepare:
    uses: preprocess
    with:
      input: \${stages.gen.outputs.data/iris.csv}
      target: species
      normalize: zscore
      split: { test: 0.2, validation: 0.1, seed: 42, stratify: true }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: mlp, hidden_units: [8] }
      optimizer: { name: adam, learning_rate: 0.05 }
      epochs: 5
      batch_size: 16
      seed: 42
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.model}
      data: \${stages.prepare.outputs.dataset}
      metrics: [accuracy]
`;

const GEN = `import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
appendFileSync(process.env.COUNTER, 'gen\\n');
mkdirSync('data', { recursive: true });
const lines = readFileSync('raw/iris.csv', 'utf8').trim().split('\\n');
writeFileSync('data/iris.csv', lines.slice(0, Number(process.argv[2]) + 1).join('\\n') + '\\n');
`;

/** One "machine": a workspace with the pipeline and an mlpipe.yaml naming the remote. */
async function machine(counter: string, remote: string) {
  const iris = await readFile(join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8');
  const ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'gen.mjs': GEN, 'raw/iris.csv': iris, 'mlpipe.yaml': remote });
  workspaces.push(ws);
  const env = { ...server.env, COUNTER: counter, MLPIPE_BACKEND: 'cpu' };
  return {
    ws,
    env,
    cli: (...args: string[]) => runCli(args, { cwd: ws.dir, env }),
    json: (...args: string[]) => runJson(args, { cwd: ws.dir, env }),
  };
}

const s3Config = (prefix: string) => `remotes:\n  origin:\n    url: s3://team/${prefix}\n    endpoint: ${server.endpoint}\n    path_style: true\ndefault_remote: origin\n`;

async function counted(counter: string): Promise<string[]> {
  return existsSync(counter) ? (await readFile(counter, 'utf8')).trim().split('\n').filter(Boolean) : [];
}

const stagesOf = (summary: any) => Object.fromEntries(summary.stages.map((s: any) => [s.name, s.cached ? 'cached' : s.status]));

/** [relative path, content] of every file under `dir` (tmp/ and quarantine/ aside), sorted. */
function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (at: string, rel: string) => {
    if (!existsSync(at)) return;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (rel === '' && (entry.name === 'tmp' || entry.name === 'quarantine')) continue;
        walk(join(at, entry.name), `${rel}${entry.name}/`);
      } else out.push([`${rel}${entry.name}`, readFileSync(join(at, entry.name)).toString('base64')]);
    }
  };
  walk(dir, '');
  return out.sort((x, y) => x[0].localeCompare(y[0]));
}

/** The keys under the bucket's prefix, as s3rver stores them. */
function bucketKeys(prefix: string): string[] {
  const root = join(server.dir, 'team', prefix);
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${rel}${entry.name}/`);
      else if (entry.name.endsWith('._S3rver_object')) out.push(`${rel}${entry.name.slice(0, -'._S3rver_object'.length)}`);
    }
  };
  walk(root, '');
  return out.sort();
}

describe('a remote cache shared by two machines', () => {
  it('S3: A runs with --push; B pulls, and its run restores every stage, runs no command, and gets identical files and metrics; C runs with --pull', async () => {
    const team = await makeWorkspace();
    workspaces.push(team);
    const counter = team.path('counter.log');
    const a = await machine(counter, s3Config('shared'));
    const first = await a.json('run', 'pipeline.yaml', '--push');
    expect(first.code, first.stderr).toBe(0);
    expect(stagesOf(first.json)).toEqual({ gen: 'completed', prepare: 'completed', train: 'completed', evaluate: 'completed' });
    expect(first.json.push[0]).toMatchObject({ direction: 'push', remote: 's3://team/shared/', runId: first.json.runId, entries: { copied: 4, present: 0, unavailable: 0 } });
    expect(first.json.push[0].objects.copied).toBeGreaterThan(4);
    expect(first.json.push[0].bytes).toBeGreaterThan(0);
    expect(await counted(counter)).toEqual(['gen']);
    expect(bucketKeys('shared').filter((k) => k.startsWith('manifests/'))).toHaveLength(4);

    const again = await a.json('push');
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ entries: { copied: 0, present: 4 }, objects: { copied: 0 }, bytes: 0 });

    const b = await machine(counter, s3Config('shared'));
    const pulled = await b.json('pull');
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json).toMatchObject({ direction: 'pull', pipeline: 'team', entries: { copied: 4, present: 0, unavailable: 0 }, bytes: first.json.push[0].bytes });
    expect(pulled.json.stages.map((s: any) => s.status)).toEqual(['copied', 'copied', 'copied', 'copied']);
    expect(pulled.json.checkedOut).toEqual([{ stage: 'gen', output: 'data/iris.csv', path: 'data/iris.csv' }]);
    expect(await readFile(b.ws.path('data/iris.csv'))).toEqual(await readFile(a.ws.path('data/iris.csv')));
    const text = await b.cli('pull');
    expect(text.stdout).toMatch(/^pulled from s3:\/\/team\/shared\/ \(team\): 0 entries, 0 objects \(0 B\); already there: 4 entries/);

    const second = await b.json('run', 'pipeline.yaml');
    expect(second.code, second.stderr).toBe(0);
    expect(stagesOf(second.json)).toEqual({ gen: 'cached', prepare: 'cached', train: 'cached', evaluate: 'cached' });
    expect(second.json.stages.every((s: any) => s.cachedFrom === first.json.runId)).toBe(true);
    expect(second.json.metrics).toEqual(first.json.metrics);
    expect(await counted(counter)).toEqual(['gen']);
    for (const stage of ['prepare', 'train']) {
      const mine = filesUnder(join(b.ws.dir, 'runs', second.json.runId, stage));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(filesUnder(join(a.ws.dir, 'runs', first.json.runId, stage)));
    }

    const c = await machine(counter, s3Config('shared'));
    const third = await c.json('run', 'pipeline.yaml', '--pull');
    expect(third.code, third.stderr).toBe(0);
    expect(stagesOf(third.json)).toEqual({ gen: 'cached', prepare: 'cached', train: 'cached', evaluate: 'cached' });
    expect(third.json.metrics).toEqual(first.json.metrics);
    const offline = await c.json('run', 'pipeline.yaml');
    expect(offline.code, offline.stderr).toBe(0);
    expect(stagesOf(offline.json)).toEqual({ gen: 'cached', prepare: 'cached', train: 'cached', evaluate: 'cached' });
    expect(await counted(counter)).toEqual(['gen']);
  });

  it('a folder remote: push, then pull --run / run --pull on a fresh workspace; gc --remote removes only what the runs let go', async () => {
    const team = await makeWorkspace();
    workspaces.push(team);
    const counter = team.path('counter.log');
    const shared = team.path('nfs/mlpipe-cache');
    const a = await machine(counter, `remotes:\n  nfs:\n    url: ${shared}\ndefault_remote: nfs\n`);
    const run = await a.json('run', 'pipeline.yaml', '--stage', 'gen');
    expect(run.code, run.stderr).toBe(0);
    const pushed = await a.json('push', '--run', run.json.runId.slice(0, 8));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.json).toMatchObject({ runId: run.json.runId, entries: { copied: 1 }, objects: { copied: 1 }, stages: [{ stage: 'gen', status: 'copied' }] });
    expect(readdirSync(join(shared, 'manifests'))).toHaveLength(1);

    // Entries pushed in the last seconds are never touched by gc: their mtimes are set back an hour.
    const ageRemote = async () => {
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const path of filesUnder(shared).map(([rel]) => join(shared, rel))) await utimes(path, hourAgo, hourAgo);
    };
    await ageRemote();

    // B's local tracker never saw A's run: gc --remote from B keeps A's entry.
    const b = await machine(counter, `remotes:\n  nfs:\n    url: ${shared}\ndefault_remote: nfs\n`);
    const fromB = await b.json('gc', '--remote', 'nfs');
    expect(fromB.code, fromB.stderr).toBe(0);
    expect(fromB.json).toMatchObject({ manifests: { removed: 0, kept: 1, unknownRun: 1 }, objects: { removed: 0, kept: 1 } });
    const fresh = await b.json('run', 'pipeline.yaml', '--stage', 'gen', '--pull');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(stagesOf(fresh.json)).toEqual({ gen: 'cached' });
    expect(await counted(counter)).toEqual(['gen']);

    // B's verified pull gave the object a fresh mtime (a concurrent gc must not delete what a pull is
    // reading); set it back again before A's gc.
    await ageRemote();
    // A lets its run go (deletes the run folder): gc --remote --dry reports, gc removes entry and object.
    await rm(a.ws.path(`runs/${run.json.runId}`), { recursive: true });
    const dry = await a.json('gc', '--remote', 'nfs', '--dry');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ dry: true, remote: shared, manifests: { removed: 1, kept: 0 }, objects: { removed: 1 } });
    expect(filesUnder(shared)).toHaveLength(2);
    const gone = await a.json('gc', '--remote', 'nfs');
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.json).toMatchObject({ dry: false, manifests: { removed: 1 }, objects: { removed: 1 } });
    expect(filesUnder(shared)).toEqual([]);
    const local = await a.json('run', 'pipeline.yaml', '--stage', 'gen');
    expect(stagesOf(local.json)).toEqual({ gen: 'cached' });
  });
});

describe('remote faults', () => {
  it('the S3 server down: push, pull and run --pull exit 2 naming the URL and endpoint, with a hint', async () => {
    const team = await makeWorkspace();
    workspaces.push(team);
    const a = await machine(team.path('counter.log'), 'remotes:\n  origin:\n    url: s3://team/down\n    endpoint: http://127.0.0.1:9\ndefault_remote: origin\n');
    for (const args of [['push'], ['pull'], ['run', 'pipeline.yaml', '--pull']]) {
      const r = await a.cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('Error: cannot use the remote s3://team/down/ (endpoint http://127.0.0.1:9): the server does not answer');
      expect(r.stderr).toMatch(/\nHint: check that the S3 server at the endpoint http:\/\/127\.0\.0\.1:9 is running/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await counted(team.path('counter.log'))).toEqual([]);
    const none = await runCli(['push'], { cwd: team.dir, env: server.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no remote cache is set');
  });

  it('a push killed between its objects and its manifests leaves no entry visible; the next push sends only the manifests', async () => {
    const team = await makeWorkspace();
    workspaces.push(team);
    const counter = team.path('counter.log');
    const a = await machine(counter, s3Config('killed'));
    expect((await a.json('run', 'pipeline.yaml', '--stage', 'prepare')).code).toBe(0);
    const child = spawn(process.execPath, [cliPath, 'push', '--json'], {
      cwd: a.ws.dir,
      env: { ...process.env, ...a.env, CI: 'true', MLPIPE_TEST_PAUSE_BEFORE: 'copy-manifests' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((r) => child.on('close', r));
    await waitFor('the push to pause before its manifests', () => stderr.includes('MLPIPE_TEST_PAUSED copy-manifests'), { exited, stdout: () => stdout, stderr: () => stderr });
    child.kill('SIGKILL');
    await exited;
    const keys = bucketKeys('killed');
    const objects = keys.filter((k) => k.startsWith('objects/'));
    expect(objects.length).toBeGreaterThan(1);
    expect(keys.filter((k) => k.startsWith('manifests/'))).toEqual([]);

    const b = await machine(counter, s3Config('killed'));
    const nothing = await b.json('pull');
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(nothing.json.entries).toMatchObject({ copied: 0, present: 0 });
    expect(nothing.json.stages.map((s: any) => s.status)).toEqual(['not-cached', 'not-cached', 'not-cached', 'not-cached']);

    const retry = await a.json('push');
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.json).toMatchObject({ entries: { copied: 2, present: 0 }, objects: { copied: 0, present: objects.length }, bytes: 0 });
    const pulled = await b.json('run', 'pipeline.yaml', '--stage', 'prepare', '--pull');
    expect(stagesOf(pulled.json)).toEqual({ gen: 'cached', prepare: 'cached' });
    expect(await counted(counter)).toEqual(['gen']);
  });

  it('a flipped byte in a remote object: pull refuses that entry (digest mismatch), run --pull runs the stage instead', async () => {
    const team = await makeWorkspace();
    workspaces.push(team);
    const counter = team.path('counter.log');
    const a = await machine(counter, s3Config('flipped'));
    expect((await a.json('run', 'pipeline.yaml', '--stage', 'gen', '--push')).code).toBe(0);
    const [object] = bucketKeys('flipped').filter((k) => k.startsWith('objects/'));
    const file = join(server.dir, 'team', 'flipped', `${object}._S3rver_object`);
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(file, bytes);

    const b = await machine(counter, s3Config('flipped'));
    const pulled = await b.json('pull');
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json.entries).toMatchObject({ copied: 0, unavailable: 1 });
    expect(pulled.json.stages[0]).toMatchObject({ stage: 'gen', status: 'unavailable' });
    expect(pulled.json.stages[0].reason).toMatch(/is corrupt: expected bytes with that hash, got bytes hashing to/);
    expect(existsSync(b.ws.path('data/iris.csv'))).toBe(false);

    const rerun = await b.json('run', 'pipeline.yaml', '--stage', 'gen', '--pull');
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/warning: gen: Cache object [0-9a-f]+ is corrupt/);
    expect(stagesOf(rerun.json)).toEqual({ gen: 'completed' });
    expect(await counted(counter)).toEqual(['gen', 'gen']);
    expect(await readFile(b.ws.path('data/iris.csv'))).toEqual(await readFile(a.ws.path('data/iris.csv')));
  });
});
