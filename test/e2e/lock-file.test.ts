import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 11 items 4, 5 and issue 15 item 5, as two machines: workspaces A and B share only a folder
// remote. A runs and pushes; B holds the pipeline files and A's lock file, nothing of A's runs/.

const PIPELINE = `name: demo
params:
  n: 3
stages:
  prep:
    run: echo prep >> "$COUNTER" && cat data.csv > prepared.csv && echo \${params.n} >> prepared.csv
    deps: [data.csv]
    outs: [prepared.csv]
  count:
    run: echo count >> "$COUNTER" && mkdir -p out && wc -l < prepared.csv > out/n.txt
    deps: [prepared.csv]
    outs: [out]
`;

const made: Workspace[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((w) => w.cleanup()));
});

async function twoMachines() {
  const a = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'data.csv': 'x,y\n1,2\n' });
  const b = await makeWorkspace();
  const shared = await makeWorkspace();
  made.push(a, b, shared);
  const env = { COUNTER: shared.path('counter'), MLPIPE_USER: 'ana' };
  return { a, b, remote: shared.path('remote'), counter: shared.path('counter'), env };
}

describe('the lock file across two machines', () => {
  it('a clone with only the lock is up to date, restores through the remote without running anything, and knows the run that made the results', async () => {
    const { a, b, remote, counter, env } = await twoMachines();
    const ran = await runJson(['run', 'pipeline.yaml', '--remote', remote, '--push'], { cwd: a.dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.json.lock.changed).toBe(true);
    const runA: string = ran.json.runId;
    for (const f of ['pipeline.yaml', 'data.csv', 'pipeline.lock']) await copyFile(a.path(f), b.path(f));

    const offline = await runCli(['status', 'pipeline.yaml', '--exit-code'], { cwd: b.dir, env });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('demo: 0 to run, 0 cached, 2 up to date (from pipeline.lock) but not cached here');
    expect(offline.stdout).toMatch(/prep\s+locked\s+up to date \(from pipeline\.lock\)/);
    expect(offline.stdout).not.toContain('never run');
    expect(offline.stdout).toContain('up to date against pipeline.lock');

    const withRemote = await runJson(['status', 'pipeline.yaml', '--remote', remote], { cwd: b.dir, env });
    expect(withRemote.json.upToDate).toBe(true);
    expect(withRemote.json.stages.map((s: any) => [s.name, s.action, s.lock, s.origin?.runId, s.origin?.foreign, s.origin?.user])).toEqual([
      ['prep', 'restore', 'matches', runA, true, 'ana'],
      ['count', 'restore', 'matches', runA, true, 'ana'],
    ]);
    const text = await runCli(['status', 'pipeline.yaml', '--remote', remote], { cwd: b.dir, env });
    expect(text.stdout).toContain(`restore from ${runA.slice(0, 8)}, made by ana on `);

    const pulled = await runJson(['run', 'pipeline.yaml', '--pull', '--remote', remote], { cwd: b.dir, env });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json.stages.map((s: any) => [s.name, s.cached, s.cachedFrom])).toEqual([
      ['prep', true, runA],
      ['count', true, runA],
    ]);
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toEqual(['prep', 'count']);
    expect(await readFile(b.path('pipeline.lock'), 'utf8')).toBe(await readFile(a.path('pipeline.lock'), 'utf8'));
    expect(pulled.json.lock.changed).toBe(false);

    const shown = await runJson(['runs', 'show', runA], { cwd: b.dir, env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json.run).toMatchObject({ id: runA, pipeline: 'demo', status: 'completed', tags: { 'mlpipe.imported': 'cache', 'mlpipe.user': 'ana' } });
    expect(shown.json.stages.map((s: any) => s.stage).sort()).toEqual(['count', 'prep']);
    const shownText = await runCli(['runs', 'show', runA.slice(0, 8)], { cwd: b.dir, env });
    expect(shownText.stdout).toContain('ran elsewhere (by ana on ');
  });

  it('pull of what the lock names: a fresh clone gets every locked output without running anything; with changed inputs it fetches the locked entries and leaves the outs alone', async () => {
    const { a, b, remote, counter, env } = await twoMachines();
    expect((await runCli(['run', 'pipeline.yaml', '--remote', remote, '--push'], { cwd: a.dir, env })).code).toBe(0);
    for (const f of ['pipeline.yaml', 'data.csv', 'pipeline.lock']) await copyFile(a.path(f), b.path(f));

    const pulled = await runJson(['pull', 'pipeline.yaml', '--remote', remote], { cwd: b.dir, env });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json.stages.map((s: any) => [s.stage, s.status, s.source])).toEqual([
      ['prep', 'copied', undefined],
      ['count', 'copied', undefined],
    ]);
    expect(pulled.json.checkedOut.map((c: any) => c.path)).toEqual(['prepared.csv', 'out']);
    expect(await readFile(b.path('prepared.csv'), 'utf8')).toBe(await readFile(a.path('prepared.csv'), 'utf8'));
    expect(await readFile(b.path('out/n.txt'), 'utf8')).toBe(await readFile(a.path('out/n.txt'), 'utf8'));

    const status = await runJson(['status', 'pipeline.yaml', '--exit-code'], { cwd: b.dir, env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.upToDate).toBe(true);
    expect(status.json.stages.map((s: any) => [s.name, s.action])).toEqual([
      ['prep', 'restore'],
      ['count', 'restore'],
    ]);
    const ran = await runJson(['run', 'pipeline.yaml'], { cwd: b.dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['prep', true],
      ['count', true],
    ]);
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toEqual(['prep', 'count']);

    // C: the same lock, but its data.csv differs: the locked entries come into the cache, the workspace outs stay.
    const c = await makeWorkspace({ 'data.csv': 'x,y\n9,9\n', 'prepared.csv': 'mine\n' });
    made.push(c);
    for (const f of ['pipeline.yaml', 'pipeline.lock']) await copyFile(a.path(f), c.path(f));
    const locked = await runJson(['pull', 'pipeline.yaml', '--remote', remote], { cwd: c.dir, env });
    expect(locked.code, locked.stderr).toBe(0);
    expect(locked.json.stages.map((s: any) => [s.stage, s.status, s.source])).toEqual([
      ['prep', 'copied', 'lock'],
      ['count', 'copied', 'lock'],
    ]);
    expect(locked.json.checkedOut).toEqual([]);
    expect(await readFile(c.path('prepared.csv'), 'utf8')).toBe('mine\n');
    const text = await runCli(['pull', 'pipeline.yaml', '--remote', remote], { cwd: c.dir, env });
    expect(text.stdout).toContain('prep   already in the local cache: the entry pipeline.lock names; its inputs here differ from the lock');
    await copyFile(a.path('data.csv'), c.path('data.csv'));
    const back = await runJson(['run', 'pipeline.yaml'], { cwd: c.dir, env });
    expect(back.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['prep', true],
      ['count', true],
    ]);
    expect(await readFile(c.path('prepared.csv'), 'utf8')).toBe(await readFile(a.path('prepared.csv'), 'utf8'));
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toEqual(['prep', 'count']);
  });

  it('status --exit-code exits 1 when a dep or a param no longer matches the lock, naming the stale stages', async () => {
    const { a, env } = await twoMachines();
    expect((await runCli(['run', 'pipeline.yaml'], { cwd: a.dir, env })).code).toBe(0);
    expect((await runCli(['status', 'pipeline.yaml', '--exit-code'], { cwd: a.dir, env })).code).toBe(0);
    const param = await runCli(['status', 'pipeline.yaml', '--exit-code', '--set', 'params.n=4'], { cwd: a.dir, env });
    expect(param.code).toBe(1);
    expect(param.stdout).toContain('param n 3 → 4');
    expect(param.stdout).toContain('2 of 2 stages stale against pipeline.lock: prep, count');
    await writeFile(a.path('data.csv'), 'x,y\n1,3\n');
    const data = await runJson(['status', 'pipeline.yaml', '--exit-code'], { cwd: a.dir, env });
    expect(data.code).toBe(1);
    expect(data.json.upToDate).toBe(false);
    expect(data.json.stages.map((s: any) => [s.name, s.stale])).toEqual([
      ['prep', true],
      ['count', true],
    ]);
    expect((await runCli(['status', 'pipeline.yaml'], { cwd: a.dir, env })).code).toBe(0);
    expect(existsSync(a.path('pipeline.lock'))).toBe(true);
  });
});
