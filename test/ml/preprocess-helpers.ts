import { join } from 'node:path';
import { expect } from 'vitest';
import type { ModelLookup } from '../../src/core/tracker/types.js';
import { validateField, type FieldIssue } from '../../src/schema/validate-fields.js';
import { preprocess, type PreprocessConfig } from '../../src/stages/preprocess.js';
import type { StageContext } from '../../src/core/stage-kind.js';
import { tempDir } from './data-helpers.js';

/** The config as the runner hands it over: validated, defaults applied. */
export function resolveConfig(config: Record<string, unknown>): PreprocessConfig {
  const issues: FieldIssue[] = [];
  const resolved = validateField(config, preprocess.config, issues) as PreprocessConfig;
  expect(issues).toEqual([]);
  return resolved;
}

/** Runs a preprocess stage on `config` (paths relative to `workspace`); returns its result, log lines and dataset folder. */
export async function runStage(workspace: string, config: Record<string, unknown>) {
  const outDir = await tempDir();
  const lines: string[] = [];
  const ctx: StageContext<PreprocessConfig> = {
    stage: 'prepare',
    config: resolveConfig(config),
    workspace,
    outDir,
    outputs: { dataset: join(outDir, 'dataset') },
    runId: 'r-test',
    runsDir: join(workspace, 'runs'),
    signal: new AbortController().signal,
    log: (l) => lines.push(l),
    progress: () => {},
    logMetric: () => {},
    upstreamMetrics: {},
    models: {} as ModelLookup,
    backend: 'cpu',
  };
  const result = await preprocess.run(ctx);
  return { result, lines, dir: ctx.outputs.dataset! };
}

