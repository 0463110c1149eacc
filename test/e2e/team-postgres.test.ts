import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { serveAndPredictOnce } from '../helpers/serve-process.js';
import { postgresAvailable, skippedReason } from '../helpers/postgres.js';
import { useTwoMachines } from '../helpers/two-machines.js';
import type { Workspace } from '../helpers/workspace.js';

// Two machines, as a team works: A is a git repository, B a `git clone` of it in another folder with
// another HOME. They share only a PostgreSQL tracker (MLPIPE_TRACKER, a database of this test's own)
// and a folder remote named in the committed mlpipe.yaml. A runs and pushes; B gets every result
// without running anything: a counter file outside both proves no command ran in B.

const available = await postgresAvailable();
if (!available) console.warn(`skipping the two-machine PostgreSQL test: ${skippedReason()}`);

const PIPELINE = `name: team
stages:
  gen:
    run: node gen.mjs
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
      epochs: 20
      batch_size: 16
      seed: 42
  evaluate:
    uses: evaluate
    with:
      model: \${stages.train.outputs.model}
      data: \${stages.prepare.outputs.dataset}
      metrics: [accuracy]
  deploy:
    uses: deploy
    needs: [evaluate]
    with:
      model: \${stages.train.outputs.model}
      name: iris
      gate: "accuracy >= 0.5"
`;

const GEN = `import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
appendFileSync(process.env.COUNTER, 'gen\\n');
mkdirSync('data', { recursive: true });
writeFileSync('data/iris.csv', readFileSync('raw/iris.csv'));
`;

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await execFileAsync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' } })).stdout;

const machines = useTwoMachines(available);

/** A machine's environment: its own HOME, the shared tracker (as CI sets it), the counter outside both. */
const envOf = (ws: Workspace) => machines.envOf(ws, { COUNTER: machines.shared.path('counter.log') });

const counted = async () => (existsSync(machines.shared.path('counter.log')) ? (await readFile(machines.shared.path('counter.log'), 'utf8')).trim().split('\n') : []);

describe.skipIf(!available)('two machines sharing a PostgreSQL tracker and a folder remote (MLPIPE_TEST_POSTGRES_URL)', { timeout: 300_000 }, () => {
  it('A runs and pushes; B, a clone, is up to date, pulls, restores every stage without running one, and sees, compares and serves what A made', async () => {
    const { shared, machineA, machineB } = machines;
    const remote = shared.path('nfs/mlpipe-cache');
    const a = join(machineA.dir, 'project');
    await mkdir(join(a, 'raw'), { recursive: true });
    for (const [file, text] of [
      ['pipeline.yaml', PIPELINE],
      ['gen.mjs', GEN],
      ['raw/iris.csv', await readFile(join(repoRoot, 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8')],
      ['mlpipe.yaml', `remotes:\n  team:\n    url: ${remote}\ndefault_remote: team\n`],
    ]) await writeFile(join(a, file!), text!);
    await git(a, 'init', '-q');
    const envA = envOf(machineA);

    const ran = await runJson(['run', 'pipeline.yaml', '--push'], { cwd: a, env: envA });
    expect(ran.code, ran.stderr).toBe(0);
    const runA: string = ran.json.runId;
    expect(ran.json.stages.map((s: any) => [s.name, s.status, s.cached])).toEqual([
      ['gen', 'completed', false],
      ['prepare', 'completed', false],
      ['train', 'completed', false],
      ['evaluate', 'completed', false],
      ['deploy', 'completed', false],
    ]);
    expect(ran.json.metrics['deploy.version']).toBe(1);
    expect(ran.json.push[0]).toMatchObject({ direction: 'push', runId: runA, entries: { unavailable: 0 } });
    expect(await counted()).toEqual(['gen']);
    await git(a, 'add', '-A');
    await git(a, 'commit', '-qm', 'pipeline and its lock');
    expect((await git(a, 'ls-files')).trim().split('\n').sort()).toEqual(['.gitignore', 'gen.mjs', 'mlpipe.yaml', 'pipeline.lock', 'pipeline.yaml', 'raw/iris.csv']);

    const b = join(machineB.dir, 'clone');
    await git(machineB.dir, 'clone', '-q', a, b);
    const envB = envOf(machineB);
    const status = await runJson(['status', 'pipeline.yaml', '--exit-code'], { cwd: b, env: envB });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.upToDate).toBe(true);
    expect(status.json.stages.filter((s: any) => s.name !== 'deploy').map((s: any) => [s.name, s.action, s.origin?.runId])).toEqual([
      ['gen', 'restore', runA],
      ['prepare', 'restore', runA],
      ['train', 'restore', runA],
      ['evaluate', 'restore', runA],
    ]);

    const pulled = await runJson(['pull', 'pipeline.yaml'], { cwd: b, env: envB });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json.entries).toMatchObject({ copied: 4, unavailable: 0 });
    expect(await readFile(join(b, 'data/iris.csv'))).toEqual(await readFile(join(a, 'data/iris.csv')));

    const runB = await runJson(['run', 'pipeline.yaml'], { cwd: b, env: envB });
    expect(runB.code, runB.stderr).toBe(0);
    expect(runB.json.stages.filter((s: any) => s.name !== 'deploy').map((s: any) => [s.name, s.cached, s.cachedFrom])).toEqual([
      ['gen', true, runA],
      ['prepare', true, runA],
      ['train', true, runA],
      ['evaluate', true, runA],
    ]);
    expect(runB.json.metrics).toEqual(ran.json.metrics);
    expect(await counted()).toEqual(['gen']);
    expect(await readFile(join(b, 'pipeline.lock'), 'utf8')).toBe(await readFile(join(a, 'pipeline.lock'), 'utf8'));
    expect(await git(b, 'status', '--porcelain')).toBe('');

    const listed = await runJson(['runs', 'list'], { cwd: b, env: envB });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json.runs.map((r: any) => r.id).sort()).toEqual([runA, runB.json.runId].sort());
    const shown = await runJson(['runs', 'show', runA.slice(0, 10)], { cwd: b, env: envB });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json.run).toMatchObject({ id: runA, pipeline: 'team', status: 'completed' });
    expect(shown.json.stages.map((s: any) => s.stage).sort()).toEqual(['deploy', 'evaluate', 'gen', 'prepare', 'train']);
    const compared = await runJson(['compare', 'runs', runA, runB.json.runId], { cwd: b, env: envB });
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.json.runs.map((r: any) => r.id)).toEqual([runA, runB.json.runId]);

    const models = await runJson(['models', 'list'], { cwd: b, env: envB });
    expect(models.code, models.stderr).toBe(0);
    expect(models.json.models.map((m: any) => [m.name, m.version, m.runId])).toEqual([['iris', 1, runA]]);

    const served = await serveAndPredictOnce(b, envB, 'iris@1', [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }]);
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(served.body.model).toEqual({ name: 'iris', version: 1 });
    expect(served.body.predictions[0].label).toBe('setosa');
    expect(served.exitCode).toBe(0);
  });
});
