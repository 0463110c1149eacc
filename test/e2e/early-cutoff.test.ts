import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// clean ──┬── monthly ──┬── summary      (pipelines/weather)
//         └── extremes ─┘
let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace();
  await cp(join(repoRoot, 'pipelines', 'weather'), ws.dir, { recursive: true });
});
afterAll(async () => ws.cleanup());

describe('early cutoff', () => {
  it('restores the stages below a re-run whose outputs came out byte-identical', async () => {
    const first = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code).toBe(0);
    // No reading is below -29 °C, so clean re-runs (its command changed) but writes the same bytes.
    const second = await runJson(['run', 'pipeline.yaml', '--set', 'params.min_temp=-29'], { cwd: ws.dir });
    expect(second.code).toBe(0);
    expect(second.json.stages.map((s: any) => [s.name, s.cached, s.reason])).toEqual([
      ['clean', false, 'param min_temp -30 → -29'],
      ['monthly', true, 'restored: upstream outputs identical'],
      ['extremes', true, 'restored: upstream outputs identical'],
      ['summary', true, 'restored: upstream outputs identical'],
    ]);
    expect(second.json.metrics).toEqual(first.json.metrics);
  });
});
