import { jsonDigest } from '../hash/canonical-json.js';
import type { StageSpec } from '../spec/types.js';

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
  /** A trial of a model-based search: the search's settings and the trials judged before it (absent otherwise, so other keys are unchanged). */
  search?: Record<string, unknown>;
}

/** The key material of `stage` over these input and upstream-output digests. */
export function keyMaterialOf(stage: StageSpec, inputs: Record<string, string>, upstream: Record<string, string>): KeyMaterial {
  const kind = stage.impl;
  const outputs = Object.fromEntries(
    Object.entries(kind.outputs(stage.config)).map(([name, o]) => [name, `${o.location}:${o.path}`]),
  );
  return { kind: kind.kind, version: kind.version, config: stage.config, params: stage.params, inputs, upstream, outputs, ...(stage.search ? { search: stage.search.identity } : {}) };
}

/**
 * The cache key: SHA-256 of the material's canonical JSON. Any change of what this returns for a
 * given stage and inputs must be deliberate (test/core/cache/golden-key.test.ts), with a bump of
 * the stage kind's version.
 */
export function cacheKey(material: KeyMaterial): string {
  return jsonDigest(material);
}

/** Digests of every output of each direct upstream stage, as `stage.output` → digest. */
export function upstreamDigests(stage: StageSpec, outputsOf: (stage: string) => Record<string, { digest: string }> | undefined): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const need of stage.needs) {
    for (const [name, out] of Object.entries(outputsOf(need) ?? {})) digests[`${need}.${name}`] = out.digest;
  }
  return digests;
}

/** Whether two digest records name the same digests. */
export function sameDigests(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
