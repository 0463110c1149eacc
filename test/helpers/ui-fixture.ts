import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runJson } from './cli.js';

/**
 * A temp folder with copies of two example pipelines (iris: built-in stages; weather: shell stages)
 * and a runs folder holding real runs of them: iris once, an iris sweep over the learning rate, weather
 * once, and a weather run whose `monthly` stage fails (its script is replaced by one that prints two
 * lines and exits 3).
 */
export interface UiFixture {
  dir: string;
  runsDir: string;
  env: Record<string, string>;
  irisRun: string;
  sweepId: string;
  sweepRuns: string[];
  weatherRun: string;
  failedRun: string;
  cleanup(): Promise<void>;
}

const EPOCHS = '12';

export async function makeUiFixture(): Promise<UiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-ui-'));
  for (const p of ['iris', 'weather']) await cp(join(repoRoot, 'pipelines', p), join(dir, p), { recursive: true });
  const runsDir = join(dir, 'runs');
  const env = { MLPIPE_RUNS_DIR: runsDir, MLPIPE_BACKEND: 'cpu' };
  const run = async (args: string[], expected: number[] = [0]) => {
    const r = await runJson(['run', ...args], { cwd: dir, env });
    if (!expected.includes(r.code ?? -1)) throw new Error(`mlpipe run ${args.join(' ')} exited ${r.code}:\n${JSON.stringify(r.json, null, 2)}\n${r.stderr}`);
    return r.json;
  };
  const irisRun = (await run(['iris/pipeline.yaml', '--set', `params.epochs=${EPOCHS}`])).runId as string;
  const sweep = await run(['iris/pipeline.yaml', '--set', `params.epochs=${EPOCHS}`, '--sweep', 'params.lr=0.005,0.05,0.2'], [0, 3]);
  const weatherRun = (await run(['weather/pipeline.yaml'])).runId as string;
  await writeFile(join(dir, 'weather', 'scripts', 'monthly.mjs'), "console.log('reading out/clean.csv');\nconsole.log('365 rows, 0 with rain_mm');\nprocess.exit(3);\n");
  const failedRun = (await run(['weather/pipeline.yaml'], [1])).runId as string;
  return {
    dir,
    runsDir,
    env,
    irisRun,
    sweepId: sweep.sweepId,
    sweepRuns: sweep.points.map((p: { runId: string }) => p.runId),
    weatherRun,
    failedRun,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
