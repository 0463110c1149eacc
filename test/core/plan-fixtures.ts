import type { PipelineSpec, StageSpec } from '../../src/core/spec/types.js';
import { shell } from '../../src/stages/shell.js';

/** A literal shell stage for planner tests: `echo NAME` writing `out/NAME`, with what `extra` overrides. */
export const stage = (name: string, needs: string[], extra: Partial<StageSpec> = {}): StageSpec => ({
  name,
  kind: 'shell',
  impl: shell,
  config: { run: `echo ${name}`, deps: [], outs: [`out/${name}`], env: {} },
  needs,
  refs: [],
  inputs: [],
  params: {},
  cache: true,
  retries: 0,
  labels: [],
  pos: { line: 1, col: 1 },
  ...extra,
});

/** A literal pipeline `p` in `/w` of shell stages, in the order given (already topological). */
export const pipelineOf = (...stages: StageSpec[]): PipelineSpec => ({
  name: 'p',
  file: '/w/pipeline.yaml',
  dir: '/w',
  params: {},
  stages: Object.fromEntries(stages.map((s) => [s.name, s])),
  order: stages.map((s) => s.name),
  specHash: 'x',
  kinds: new Map([['shell', shell]]),
});
