import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runJson } from '../helpers/cli.js';

/** A temp folder holding a copy of pipelines/iris and a runs folder in which iris v1 and v2 are registered. */
export interface IrisRegistry {
  dir: string;
  runsDir: string;
  /** `--runs-dir` and `--backend`-free args for CLI calls in `dir`. */
  env: Record<string, string>;
  /** Run ids of v1 and v2. */
  runIds: [string, string];
  cleanup(): Promise<void>;
}

/** Runs the iris example twice on the cpu backend (the second with another learning rate), registering iris v1 and v2. */
export async function irisRegistry(): Promise<IrisRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-models-e2e-'));
  await cp(join(repoRoot, 'pipelines', 'iris'), join(dir, 'iris'), { recursive: true });
  const runsDir = join(dir, 'runs');
  const env = { MLPIPE_RUNS_DIR: runsDir, MLPIPE_BACKEND: 'cpu' };
  const runIds: string[] = [];
  for (const lr of ['0.01', '0.02']) {
    const r = await runJson(['run', 'iris/pipeline.yaml', '--set', `params.lr=${lr}`], { cwd: dir, env });
    if (r.code !== 0 || r.json.metrics['deploy.version'] !== runIds.length + 1) throw new Error(`iris run failed (exit ${r.code}):\n${JSON.stringify(r.json, null, 2)}\n${r.stderr}`);
    runIds.push(r.json.runId);
  }
  return { dir, runsDir, env, runIds: runIds as [string, string], cleanup: () => rm(dir, { recursive: true, force: true }) };
}
