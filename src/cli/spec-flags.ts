import { Args, Flags } from '@oclif/core';
import { SpecError } from '../core/spec/spec-error.js';
import { loadSpec } from '../core/spec/load-spec.js';
import { formatDiagnostics } from '../render/diagnostics.js';
import type { LoadOptions, PipelineSpec } from '../core/spec/types.js';
import { stageKinds } from '../stages/index.js';

export const specArg = { spec: Args.string({ description: 'The pipeline spec (YAML).', required: true }) };

export const overrideFlags = {
  set: Flags.string({ description: 'Override a param or a stage key: params.lr=0.01, train.epochs=3 (YAML scalar).', multiple: true }),
  params: Flags.string({ description: 'A YAML/JSON file of params (spec params < this file < --set).' }),
};

/** Loads a spec or throws SpecError (exit 2, nothing written); warnings go to stderr. */
export async function loadSpecOrThrow(file: string, flags: { set?: string[]; params?: string }): Promise<PipelineSpec> {
  const result = await loadSpec(file, loadOptionsOf(flags));
  if (!result.ok) throw new SpecError(result.diagnostics);
  if (result.warnings.length > 0) process.stderr.write(`${formatDiagnostics(result.warnings, { color: false })}\n`);
  return result.spec;
}

/** The loader's options from `--set` / `--params`, with the built-in stage kinds. */
export function loadOptionsOf(flags: { set?: string[]; params?: string }): LoadOptions {
  return { kinds: stageKinds, set: flags.set, paramsFile: flags.params };
}
