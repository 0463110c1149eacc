import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, runJson } from '../helpers/cli.js';
import { serveAndPredictOnce } from '../helpers/serve-process.js';
import { postgresAvailable, skippedReason } from '../helpers/postgres.js';
import { useTwoMachines } from '../helpers/two-machines.js';

// Issue 11, two machines: A trains, deploys (production) and pushes; B is another folder with its
// own, empty runs/ that shares only the PostgreSQL tracker and the folder remote. B serves and
// predicts with A's model without running anything: the files come from the remote by digest.

const available = await postgresAvailable();
if (!available) console.warn(`skipping the serve-from-the-remote PostgreSQL test: ${skippedReason()}`);

const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

const machines = useTwoMachines(available);

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.skipIf(!available)('serve and predict on a machine that only shares the tracker and the remote (MLPIPE_TEST_POSTGRES_URL)', { timeout: 300_000 }, () => {
  it('B fetches A\'s model files from the remote (verified), serves NAME@production and predicts NAME@1; without a remote it names what is missing; a corrupt remote object is refused', async () => {
    const { shared, machineA, machineB, envOf } = machines;
    const remote = shared.path('nfs/mlpipe-cache');
    const config = `remotes:\n  team:\n    url: ${remote}\ndefault_remote: team\n`;
    const a = machineA.path('project');
    await cp(join(repoRoot, 'pipelines', 'iris'), a, { recursive: true });
    await writeFile(join(a, 'mlpipe.yaml'), config);
    const ran = await runJson(['run', 'pipeline.yaml', '--push'], { cwd: a, env: envOf(machineA) });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.json.metrics['deploy.version']).toBe(1);
    expect(ran.json.push[0]).toMatchObject({ direction: 'push', entries: { unavailable: 0 } });
    const promoted = await runCli(['models', 'promote', 'iris@1', '--alias', 'production'], { cwd: a, env: envOf(machineA) });
    expect(promoted.code, promoted.stderr).toBe(0);

    // B: the project's config (as a clone has it) and nothing else: no runs/, no pipeline run.
    const b = machineB.path('clone');
    await mkdir(b, { recursive: true });
    await writeFile(join(b, 'mlpipe.yaml'), config);
    await writeFile(join(b, 'rows.csv'), `sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n`);
    const envB = envOf(machineB);

    // Without a remote (another folder with no mlpipe.yaml): a clear error naming the missing files and the hint.
    const bare = machineB.path('no-remote');
    await mkdir(bare, { recursive: true });
    await writeFile(join(bare, 'rows.csv'), await readFile(join(b, 'rows.csv')));
    const refused = await runCli(['predict', 'iris@1', '--input', 'rows.csv'], { cwd: bare, env: envB });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('iris v1 is registered');
    expect(refused.stderr).toContain(`its files are not on this machine (${join(bare, 'runs', 'models', 'iris', '1')} is missing)`);
    expect(refused.stderr).toContain('no remote cache is configured');
    expect(refused.stderr).toMatch(/Hint: configure the remote the team pushes to \(mlpipe remote add/);
    expect(refused.stderr).not.toContain('this is a bug');

    // A remote one of whose objects has a flipped byte: refused (digest mismatch), nothing written.
    const corrupt = shared.path('corrupt-cache');
    await cp(remote, corrupt, { recursive: true });
    const objects = (await filesUnder(join(corrupt, 'objects'))).sort();
    const biggest = (await Promise.all(objects.map(async (f) => ({ f, n: (await readFile(f)).length })))).sort((x, y) => y.n - x.n)[0]!.f;
    const bytes = await readFile(biggest);
    bytes[0] ^= 0xff;
    await writeFile(biggest, bytes);
    const badB = machineB.path('bad-remote');
    await mkdir(badB, { recursive: true });
    await writeFile(join(badB, 'rows.csv'), await readFile(join(b, 'rows.csv')));
    const rejected = await runCli(['predict', 'iris@1', '--input', 'rows.csv', '--remote', corrupt], { cwd: badB, env: envB });
    expect(rejected.code, rejected.stderr).toBe(2);
    expect(rejected.stderr).toMatch(/fetching .* from .*corrupt-cache failed: Cache object [0-9a-f]+ is corrupt/);
    expect(rejected.stderr).not.toContain('this is a bug');
    expect(existsSync(join(badB, 'runs', 'models', 'iris', '1'))).toBe(false);

    // With the remote: serve follows production and answers.
    const served = await serveAndPredictOnce(b, envB, 'iris@production', [SETOSA]);
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(served.body.model).toEqual({ name: 'iris', version: 1 });
    expect(served.body.predictions[0].label).toBe('setosa');
    expect(served.exitCode).toBe(0);
    // the fetched files are A's, byte for byte
    const fetched = join(b, 'runs', 'models', 'iris', '1');
    const exported = join(a, 'runs', 'models', 'iris', '1');
    const rel = (dir: string, files: string[]) => files.map((f) => f.slice(dir.length + 1)).sort();
    const fetchedFiles = await filesUnder(fetched);
    expect(rel(fetched, fetchedFiles)).toEqual(rel(exported, await filesUnder(exported)));
    for (const f of fetchedFiles) expect(await readFile(f)).toEqual(await readFile(join(exported, f.slice(fetched.length + 1))));

    // predict in a fresh folder of B's (nothing fetched yet there) works too, with the same answers as on A.
    const b2 = machineB.path('clone-2');
    await mkdir(b2, { recursive: true });
    await writeFile(join(b2, 'mlpipe.yaml'), config);
    await writeFile(join(b2, 'rows.csv'), await readFile(join(b, 'rows.csv')));
    const predicted = await runJson(['predict', 'iris@1', '--input', 'rows.csv'], { cwd: b2, env: envB });
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.json.model).toEqual({ name: 'iris', version: 1 });
    const onA = await runJson(['predict', 'iris@1', '--input', join(b, 'rows.csv')], { cwd: a, env: envOf(machineA) });
    expect(onA.code, onA.stderr).toBe(0);
    expect(predicted.json.predictions).toEqual(onA.json.predictions);
    expect(predicted.json.predictions.map((p: any) => p.label ?? p.prediction)).toContain('setosa');
  });
});
