import { join } from 'node:path';
import { loadSpec } from '../../src/core/spec/load-spec.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import { runPipeline, type RunSummary } from '../../src/core/run/run-pipeline.js';
import { stageKinds } from '../../src/stages/index.js';
import { reasonLine } from '../../src/render/reasons.js';
import type { Workspace } from './workspace.js';

/** Loads a spec of the workspace with the built-in kinds; throws with the diagnostics when it does not load. */
export async function loadIn(ws: Workspace, file = 'pipeline.yaml', set: string[] = []): Promise<PipelineSpec> {
  const loaded = await loadSpec(ws.path(file), { kinds: stageKinds, set });
  if (!loaded.ok) throw new Error(`spec did not load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.spec;
}

/** Runs a loaded spec in this process, one job at a time, with the workspace's `runs` folder. */
export function runIn(ws: Workspace, spec: PipelineSpec): Promise<RunSummary> {
  return runPipeline({ spec, runsDir: join(ws.dir, 'runs'), jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });
}
