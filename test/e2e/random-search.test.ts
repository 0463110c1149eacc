import { afterEach, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { parseSweep, sweepPoints } from '../../src/core/run/sweep-grid.js';

const files = {
  'pipeline.yaml': `name: search
params:
  factor: 1
  units: 4
stages:
  score:
    run: echo score >> "$MLPIPE_TEST_CALLS" && node score.mjs \${params.factor} \${params.units}
    deps: [score.mjs]
    outs: [out/score.json]
    metrics: out/score.json
`,
  'score.mjs': `import { mkdirSync, writeFileSync } from 'node:fs';
const [factor, units] = process.argv.slice(2).map(Number);
mkdirSync('out', { recursive: true });
writeFileSync('out/score.json', JSON.stringify({ score: factor * 10, units }));
`,
};

let ws: Workspace | undefined;
let calls: string | undefined;
afterEach(async () => {
  await ws?.cleanup();
  if (calls) await rm(calls, { force: true });
});

describe('mlpipe run --sweep … --trials N (random search)', () => {
  it('runs the seeded trials as one sweep; the same command again restores every trial from the cache', async () => {
    ws = await makeWorkspace(files);
    calls = join(ws.dir, '..', `${basename(ws.dir)}-calls.log`);
    const env = { MLPIPE_TEST_CALLS: calls };
    const args = ['run', 'pipeline.yaml', '--sweep', 'params.factor=uniform(0,5)', '--sweep', 'params.units=randint(2,9)', '--trials', '4', '--seed', '3', '--jobs', '2'];
    const first = await runJson(args, { cwd: ws.dir, env });
    expect(first.code).toBe(0);
    const expected = sweepPoints([parseSweep('params.factor=uniform(0,5)'), parseSweep('params.units=randint(2,9)')], { trials: 4, seed: 3 });
    expect(first.json.points.map((p: any) => p.set)).toEqual(expected);
    for (const p of first.json.points) {
      const factor = Number(p.set[0].split('=')[1]);
      expect(p.status).toBe('completed');
      expect(factor).toBeGreaterThanOrEqual(0);
      expect(factor).toBeLessThanOrEqual(5);
      expect(p.metrics['score.score']).toBeCloseTo(factor * 10, 6);
      expect(p.metrics['score.units']).toBe(Number(p.set[1].split('=')[1]));
    }
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toHaveLength(4);

    const again = await runJson(args, { cwd: ws.dir, env });
    expect(again.code).toBe(0);
    expect(again.json.points.map((p: any) => p.set)).toEqual(expected);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toHaveLength(4);

    const compared = await runJson(['compare', 'runs', '--sweep', first.json.sweepId], { cwd: ws.dir });
    expect(compared.code).toBe(0);
    expect(compared.json.sweep.points).toHaveLength(4);
  });

  it('a distribution without --trials is exit 2 with a hint, and nothing runs', async () => {
    ws = await makeWorkspace(files);
    const r = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.factor=loguniform(1e-3,1)'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sweep params.factor is a distribution (loguniform): say how many trials to draw with --trials N');
    expect(r.stderr).toContain('Hint: e.g. --trials 20 --seed 1');
    expect(r.stderr).not.toContain('    at ');
  });
});
