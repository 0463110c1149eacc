import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { irisRegistry, type IrisRegistry } from '../e2e/iris-models.js';
import { isRoot, NOBODY, runAsUser } from './harness.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Issue 14 item 5: tampered weights changed 7 of 8 iris predictions while predict/serve exited 0,
// cache verify said all sound and deploy said "already registered"; a copied runs folder served the
// original workspace's files (absolute registry paths).

let reg: IrisRegistry;
beforeAll(async () => {
  reg = await irisRegistry();
});
afterAll(() => reg?.cleanup());

const rows = 'sepal_length,sepal_width,petal_length,petal_width\n6.1,2.8,4.7,1.2\n5.1,3.5,1.4,0.2\n';

async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  await writeFile(file, bytes);
}

const predict = (runsDir: string) => runCli(['predict', 'iris@1', '--input', 'rows.csv'], { cwd: reg.dir, env: { ...reg.env, MLPIPE_RUNS_DIR: runsDir } });

describe('verified models (issue 14.5)', () => {
  it('registers the version folder relative to the runs folder', async () => {
    const shown = await runJson<{ path: string; dir: string }>(['models', 'show', 'iris@1'], { cwd: reg.dir, env: reg.env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json.path).toBe('models/iris/1');
    expect(shown.json.dir).toBe(join(reg.runsDir, 'models', 'iris', '1'));
  });

  it('predict, serve and cache verify refuse changed weights; deploying the same model again restores them', async () => {
    await writeFile(join(reg.dir, 'rows.csv'), rows);
    const before = await predict(reg.runsDir);
    expect(before.code, before.stderr).toBe(0);
    await flipByte(join(reg.runsDir, 'models', 'iris', '1', 'weights.bin'));

    const refused = await predict(reg.runsDir);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^Error: iris v1 in \S+models\/iris\/1 does not match its registered digest \(registered [0-9a-f]{16}…, its files now [0-9a-f]{16}…\): they changed after registration; refusing to load it\nHint: restore the folder, or re-run the pipeline that registered it \(run r-/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    const served = await runCli(['serve', 'iris@1', '--port', '0'], { cwd: reg.dir, env: reg.env });
    expect(served.code).toBe(1);
    expect(served.stderr).toContain('iris v1 in ');
    expect(served.stderr).toContain('does not match its registered digest');

    const verify = await runJson<{ ok: boolean; models: number; problems: { kind: string; id: string; detail: string }[] }>(['cache', 'verify'], { cwd: reg.dir, env: reg.env });
    expect(verify.code).toBe(1);
    expect(verify.json.models).toBe(2);
    expect(verify.json.problems).toEqual([{ kind: 'model', id: 'iris@1', detail: expect.stringContaining('changed since registration') }]);

    const again = await runJson<{ metrics: Record<string, number> }>(['run', 'iris/pipeline.yaml', '--set', 'params.lr=0.01'], { cwd: reg.dir, env: reg.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.metrics['deploy.version']).toBe(1);
    const after = await predict(reg.runsDir);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
    expect((await runCli(['cache', 'verify'], { cwd: reg.dir, env: reg.env })).code).toBe(0);
  });

  it('a copied runs folder serves its own files, not those of the folder it was copied from', async () => {
    await writeFile(join(reg.dir, 'rows.csv'), rows);
    const copy = join(reg.dir, 'copied-runs');
    await cp(reg.runsDir, copy, { recursive: true });
    await flipByte(join(copy, 'models', 'iris', '2', 'weights.bin'));
    const fromCopy = await runCli(['predict', 'iris@2', '--input', 'rows.csv'], { cwd: reg.dir, env: { ...reg.env, MLPIPE_RUNS_DIR: copy } });
    expect(fromCopy.code).toBe(1);
    expect(fromCopy.stderr).toContain(`iris v2 in ${join(copy, 'models', 'iris', '2')} does not match its registered digest`);
    const original = await runCli(['predict', 'iris@2', '--input', 'rows.csv'], { cwd: reg.dir, env: reg.env });
    expect(original.code, original.stderr).toBe(0);
  });

  // Issue 14.7: on a read-only runs folder predict and serve failed ("unable to open database file").
  it('predict and models list work on a read-only runs folder (the last test: it takes the folder away)', async () => {
    await writeFile(join(reg.dir, 'rows.csv'), rows);
    const sh = promisify(execFile);
    if (isRoot) await sh('chown', ['-R', `${NOBODY}:${NOBODY}`, reg.dir]);
    await sh('chmod', ['-R', 'a-w', reg.runsDir]);
    const listed = await runAsUser(['models', 'list', '--json', '--runs-dir', reg.runsDir], reg.dir);
    expect(listed.code, listed.stderr).toBe(0);
    const predicted = await runAsUser(['predict', 'iris@2', '--input', 'rows.csv', '--runs-dir', reg.runsDir, '--backend', 'cpu'], reg.dir);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout.trim().split('\n')).toHaveLength(3);
  });
});
