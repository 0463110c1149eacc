import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// A shell stage writes a model folder in its own format; a deploy stage registers it.
const SPEC = `name: custom
params:
  seed: 1
stages:
  fit:
    run: node fit.mjs \${params.seed}
    deps: [fit.mjs]
    outs: [model]
    metrics: metrics.json
  deploy:
    uses: deploy
    with:
      model: \${stages.fit.outputs.model}
      name: custom
      gate: "accuracy >= 0.9"
      alias: staging
      description: a hand-made model
`;
const FIT = `import { mkdirSync, writeFileSync } from 'node:fs';
const seed = Number(process.argv[2]);
mkdirSync('model/parts', { recursive: true });
writeFileSync('model/weights.bin', Buffer.from([seed, 2, 3, 4]));
writeFileSync('model/parts/config.json', JSON.stringify({ kind: 'custom', seed }));
writeFileSync('metrics.json', JSON.stringify({ accuracy: 0.93 }));
`;

let ws: Workspace;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, { cwd: ws.dir, env });
const json = (...args: string[]) => runJson(args, { cwd: ws.dir, env });

describe('the model registry with a model a shell stage wrote', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'fit.mjs': FIT });
    env = { MLPIPE_RUNS_DIR: ws.path('runs') };
    for (const seed of ['1', '2']) {
      const r = await json('run', 'pipeline.yaml', '--set', `params.seed=${seed}`);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 240_000);
  afterAll(() => ws?.cleanup());

  it('shows the registered files (they were said to be missing), verified, with the description from the spec', async () => {
    const r = await json('models', 'show', 'custom@1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ name: 'custom', version: 1, format: 'files', signature: null, verified: true, description: 'a hand-made model' });
    expect(r.json.files).toEqual([
      { path: 'parts/config.json', size: 26 },
      { path: 'weights.bin', size: 4 },
    ]);
    const text = await cli('models', 'show', 'custom@1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('about      a hand-made model');
    expect(text.stdout).toContain('(the files match it)');
    expect(text.stdout).toMatch(/parts\/config\.json +26 B/);
    expect(text.stderr).not.toContain('missing');
    const verify = await json('cache', 'verify');
    expect(verify.json).toMatchObject({ ok: true, models: 2, problems: [] });
  });

  it('refuses to serve or predict it with a reason, not a missing-files error', async () => {
    const r = await cli('predict', 'custom@1', '--input', 'fit.mjs');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('custom v1 is registered, but its files in');
    expect(r.stderr).toContain('are not a model mlpipe can load');
    expect(r.stderr).not.toContain('missing');
  });

  it('describes a version and lists descriptions', async () => {
    const set = await json('models', 'describe', 'custom@staging', 'seed 2; the better one');
    expect(set.code, set.stderr).toBe(0);
    expect(set.json).toEqual({ schemaVersion: 1, name: 'custom', version: 2, description: 'seed 2; the better one', previous: 'a hand-made model' });
    const list = await json('models', 'list', 'custom');
    expect(list.json.models.map((m: { version: number; description: string | null }) => [m.version, m.description])).toEqual([
      [2, 'seed 2; the better one'],
      [1, 'a hand-made model'],
    ]);
    expect((await cli('models', 'list')).stdout).toMatch(/DESCRIPTION[\s\S]*seed 2; the better one/);
    const cleared = await json('models', 'describe', 'custom@1', '');
    expect(cleared.json).toMatchObject({ version: 1, description: null });
    expect((await json('models', 'show', 'custom@1')).json.description).toBeNull();
    const missing = await cli('models', 'describe', 'custom@9', 'x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no registered model matches "custom@9": custom has v2 (staging), v1');
  });

  it('removes an alias: it no longer resolves, the version stays, and removing it again says what aliases there are', async () => {
    expect((await json('models', 'promote', 'custom@1', '--alias', 'production')).code).toBe(0);
    const r = await json('models', 'unalias', 'custom@staging');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({ schemaVersion: 1, name: 'custom', alias: 'staging', version: 2 });
    const gone = await cli('models', 'show', 'custom@staging');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('no registered model matches "custom@staging": custom has v2, v1 (production)');
    const again = await cli('models', 'unalias', 'custom', '--alias', 'staging');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('custom has no alias "staging"; aliases of custom: production → v1');
    const version = await cli('models', 'unalias', 'custom@2');
    expect(version.code).toBe(2);
    expect(version.stderr).toContain('models unalias removes an alias, got the version reference "custom@2"');
    const text = await cli('models', 'unalias', 'custom@production');
    expect(text.stdout).toBe('removed custom@production (it pointed at v1, which stays registered)\n');
    expect((await json('models', 'list', 'custom')).json.models.map((m: { aliases: string[] }) => m.aliases)).toEqual([[], []]);
  });
});
