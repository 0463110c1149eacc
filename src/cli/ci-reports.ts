import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PipelineSpec } from '../core/spec/types.js';
import type { RunSummary } from '../core/run/run-pipeline.js';
import { renderJunit } from '../render/ci/junit.js';
import { renderStepSummary } from '../render/ci/step-summary.js';

/** `--junit FILE`, and a markdown summary appended to `$GITHUB_STEP_SUMMARY` when that is set. */
export async function writeCiReports(spec: PipelineSpec, summary: RunSummary, opts: { junit?: string }): Promise<void> {
  if (opts.junit) {
    const path = resolve(opts.junit);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, renderJunit(spec, summary));
  }
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) await appendFile(stepSummary, renderStepSummary(summary));
}
