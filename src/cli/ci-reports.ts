import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PipelineSpec } from '../core/spec/types.js';
import type { RunSummary } from '../core/run/run-pipeline.js';
import { renderJunitSuites, type JunitSuite } from '../render/ci/junit.js';
import { renderStepSummary } from '../render/ci/step-summary.js';

/** `--junit FILE`, and a markdown summary appended to `$GITHUB_STEP_SUMMARY` when that is set. */
export async function writeCiReports(spec: PipelineSpec, summary: RunSummary, opts: { junit?: string }): Promise<void> {
  await writeSuitesReports([{ spec, summary }], opts);
}

/** The same for a sweep: one JUnit suite and one summary section per point that ran. */
export async function writeSuitesReports(suites: readonly JunitSuite[], opts: { junit?: string }): Promise<void> {
  if (opts.junit) {
    const path = resolve(opts.junit);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, renderJunitSuites(suites));
  }
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) await appendFile(stepSummary, suites.map((s) => renderStepSummary(s.summary, s.label)).join(''));
}
