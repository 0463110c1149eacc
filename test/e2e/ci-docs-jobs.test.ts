import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliPath, repoRoot } from '../helpers/cli.js';
import { yamlBlocks } from '../helpers/markdown.js';
import { createTestDatabase, postgresAvailable, skippedReason, type TestDatabase } from '../helpers/postgres.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// docs/ci.md's GitHub workflow, run: its `run:` steps in order, as two CI jobs on two fresh runners
// that share only a PostgreSQL tracker (MLPIPE_TRACKER) and a folder remote (MLPIPE_REMOTE), the
// way the page says. `npx mlpipe` is the built CLI; `uses:` steps and `npm ci` are the runner's own.

const available = await postgresAvailable();
if (!available) console.warn(`skipping the docs/ci.md jobs: ${skippedReason()}`);

interface Step {
  name?: string;
  run?: string;
  if?: string;
}

const workflow = yamlBlocks(readFileSync(join(repoRoot, 'docs', 'ci.md'), 'utf8'))
  .map((b) => parse(b.text) as any)
  .find((v) => v?.jobs?.retrain);
const steps: Step[] = workflow.jobs.retrain.steps.filter((s: Step) => s.run !== undefined && s.run !== 'npm ci');

/** Whether a step runs on the main branch, given whether every step before it succeeded; the page's conditions only. */
function runsOnMain(step: Step, ok: boolean): boolean {
  if (step.if === undefined) return ok;
  if (step.if === '${{ !cancelled() }}') return true;
  if (step.if === "${{ success() && github.ref == 'refs/heads/main' }}") return ok;
  throw new Error(`docs/ci.md: a step condition this test does not know: ${step.if}`);
}

const NPX = `npx() { if [ "$1" = mlpipe ]; then shift; node "$MLPIPE_CLI" "$@"; else command npx "$@"; fi; }\n`;

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', NPX + script], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

let db: TestDatabase;
let shared: Workspace;
beforeAll(async () => {
  if (!available) return;
  db = await createTestDatabase();
  shared = await makeWorkspace();
  await mkdir(shared.path('remote')); // the team's share, mounted on every runner
});
afterAll(async () => {
  if (!available) return;
  await db.drop();
  await shared.cleanup();
});

/** One CI job on a fresh runner (a checkout of the project, nothing of runs/): each step's name, exit code and output. */
async function job(runner: string, lock?: string): Promise<{ steps: { name: string; code: number | null; output: string }[]; dir: string; summary: string }> {
  const dir = join(shared.dir, runner);
  await mkdir(join(dir, 'pipelines'), { recursive: true });
  await cp(join(repoRoot, 'pipelines', 'iris'), join(dir, 'pipelines', 'iris'), { recursive: true });
  if (lock) await copyFile(lock, join(dir, 'pipelines', 'iris', 'pipeline.lock'));
  const summary = join(dir, 'step-summary.md');
  const env = { MLPIPE_CLI: cliPath, MLPIPE_TRACKER: db.url, MLPIPE_REMOTE: shared.path('remote'), MLPIPE_BACKEND: 'cpu', GITHUB_STEP_SUMMARY: summary, HOME: join(dir, 'home') };
  const done: { name: string; code: number | null; output: string }[] = [];
  for (const step of steps) {
    if (!runsOnMain(step, done.every((d) => d.code === 0))) continue;
    done.push({ name: step.name ?? step.run!, ...(await bash(step.run!, dir, env)) });
  }
  return { steps: done, dir, summary: existsSync(summary) ? await readFile(summary, 'utf8') : '' };
}

describe.skipIf(!available)('docs/ci.md: the GitHub workflow run as two jobs sharing a tracker and a remote (MLPIPE_TEST_POSTGRES_URL)', { timeout: 300_000 }, () => {
  it('the first job trains, pushes and promotes; the next one, on an empty runner, restores every stage from the remote and compares with production', async () => {
    expect(steps.map((s) => s.name)).toEqual(['Pull what pipeline.lock names', 'Retrain (the deploy gate compares with production)', 'Compare with production', 'HTML report', 'Push the results to the remote', 'Promote to production']);
    const first = await job('runner-1');
    for (const s of first.steps) expect({ step: s.name, code: s.code, output: s.code === 0 ? '' : s.output }).toEqual({ step: s.name, code: 0, output: '' });
    expect(first.steps).toHaveLength(6);
    const run1 = JSON.parse(await readFile(join(first.dir, 'run.json'), 'utf8'));
    expect(run1.stages.map((s: any) => [s.name, s.cached])).toEqual([['prepare', false], ['train', false], ['evaluate', false], ['deploy', false]]);
    expect(run1.metrics['deploy.version']).toBe(1);
    expect(first.steps[2]!.output).toContain('No iris@production yet');
    expect(first.steps[4]!.output).toMatch(/^pushed to .*remote.* \(iris\): 3 entries/m);
    expect(existsSync(join(first.dir, 'mlpipe-report.html'))).toBe(true);

    const second = await job('runner-2', join(first.dir, 'pipelines', 'iris', 'pipeline.lock'));
    for (const s of second.steps) expect({ step: s.name, code: s.code, output: s.code === 0 ? '' : s.output }).toEqual({ step: s.name, code: 0, output: '' });
    expect(second.steps[0]!.output).toMatch(/^pulled from .*remote.* \(iris\): 3 entries/m);
    const run2 = JSON.parse(await readFile(join(second.dir, 'run.json'), 'utf8'));
    expect(run2.stages.map((s: any) => [s.name, s.cached, s.cachedFrom ?? null])).toEqual([
      ['prepare', true, run1.runId],
      ['train', true, run1.runId],
      ['evaluate', true, run1.runId],
      ['deploy', false, null],
    ]);
    expect(run2.metrics).toEqual(run1.metrics);
    expect(second.summary).toContain(`Δ vs baseline ${run1.runId.slice(0, 8)}`);
    expect(second.summary).toContain('`--fail-if accuracy < baseline - 0.005` does not hold');
    expect(second.steps[4]!.output).toMatch(/: 0 entries, 0 objects \(0 B\); already there: 3 entries/);
    expect(await readFile(join(second.dir, 'pipelines', 'iris', 'pipeline.lock'), 'utf8')).toBe(await readFile(join(first.dir, 'pipelines', 'iris', 'pipeline.lock'), 'utf8'));
  });
});
