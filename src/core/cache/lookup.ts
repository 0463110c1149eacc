import type { StageSpec } from '../spec/types.js';
import { cacheKey, keyMaterialOf, type KeyMaterial } from './key.js';
import type { StageManifest } from './manifest.js';
import { explainKeyChange, type CacheReason } from './reasons.js';

/** A stage's previous completed execution in its pipeline: what `status` diffs against. */
export interface LastExecution {
  key: string;
  material: KeyMaterial;
}

/** What a lookup reads: usable entries by key, and each stage's last execution. */
export interface CacheIndex {
  /** The entry under `key` when it can be restored (a sound manifest whose objects are all there). */
  entry(key: string): Promise<StageManifest | undefined>;
  lastExecution(stage: string): Promise<LastExecution | undefined>;
}

/** Run or restore, with the key it was decided on and why. */
export interface CacheDecision {
  action: 'run' | 'restore';
  reasons: CacheReason[];
  key: string;
  material: KeyMaterial;
  /** For `restore`: the entry to restore. */
  manifest?: StageManifest;
}

/**
 * Looks a stage up by the key of its inputs and upstream outputs: `restore` when an entry is
 * there, else `run` with what changed since its last execution (DVC's run-cache check).
 */
export async function lookupStage(
  stage: StageSpec,
  inputs: Record<string, string>,
  upstream: Record<string, string>,
  index: CacheIndex,
  opts: { force?: boolean } = {},
): Promise<CacheDecision> {
  const material = keyMaterialOf(stage, inputs, upstream);
  const key = cacheKey(material);
  const decided = (action: CacheDecision['action'], reasons: CacheReason[], manifest?: StageManifest): CacheDecision => ({ action, reasons, key, material, manifest });
  if (opts.force) return decided('run', [{ kind: 'forced' }]);
  if (!isCacheable(stage)) return decided('run', [{ kind: 'cache-disabled' }]);
  const manifest = await index.entry(key);
  if (manifest) return decided('restore', [{ kind: 'identical-inputs' }], manifest);
  const last = await index.lastExecution(stage.name);
  if (!last) return decided('run', [{ kind: 'never-run' }]);
  if (last.key === key) return decided('run', [{ kind: 'entry-missing' }]);
  return decided('run', explainKeyChange(last.material, material));
}

/**
 * Decides a stage once the upstream stages it waited for have finished (early cutoff): restored
 * when their new outputs give a key that has an entry, else run because `rerun` re-ran, plus
 * whatever else changed about the stage itself.
 */
export async function lookupAfterUpstream(
  stage: StageSpec,
  inputs: Record<string, string>,
  upstream: Record<string, string>,
  rerun: string[],
  index: CacheIndex,
): Promise<CacheDecision> {
  const d = await lookupStage(stage, inputs, upstream, index);
  if (d.action === 'restore') return { ...d, reasons: [{ kind: 'upstream-identical', stages: rerun }] };
  const own = d.reasons.filter((r) => r.kind !== 'never-run' && r.kind !== 'upstream-output-changed');
  return { ...d, reasons: [...rerun.map((s): CacheReason => ({ kind: 'upstream-reruns', stage: s })), ...own] };
}

/** Whether the stage's results are cached at all (`cache: false` in the spec, or a kind that says so). */
export function isCacheable(stage: StageSpec): boolean {
  return stage.cache && stage.impl.cache !== false;
}
