import type { StageSpec } from '../spec/types.js';
import type { StageKind } from '../stage-kind.js';

/**
 * Everything a stage's cache key is computed from (DESIGN.md section 4). Kept as a record so
 * `mlpipe status` can say which part changed since the stage last ran.
 */
export interface KeyMaterial {
  kind: string;
  version: number;
  /** The resolved config with output references kept symbolic and paths as written. */
  config: Record<string, unknown>;
  /** The params the config used (already inside `config`; kept apart for readable reasons). */
  params: Record<string, unknown>;
  /** Workspace-relative input path → content digest. */
  inputs: Record<string, string>;
  /** `stage.output` → digest of that upstream output. */
  upstream: Record<string, string>;
  /** Declared outputs: name → location:path. */
  outputs: Record<string, string>;
}

export function buildKeyMaterial(
  stage: StageSpec,
  kind: StageKind,
  inputs: Record<string, string>,
  upstream: Record<string, string>,
): KeyMaterial {
  const outputs = Object.fromEntries(
    Object.entries(kind.outputs(stage.config)).map(([name, o]) => [name, `${o.location}:${o.path}`]),
  );
  return { kind: kind.kind, version: kind.version, config: stage.config, params: stage.params, inputs, upstream, outputs };
}
