import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { StageManifest } from '../store/types.js';
import type { StageKind } from '../stage-kind.js';
import { cacheKeyOf } from '../hash/canonical-json.js';
import { buildKeyMaterial, type KeyMaterial } from '../cache/key-material.js';
import { explainKeyChange } from '../cache/reasons.js';

export type PlanAction = 'run' | 'restore';

/** What will happen to one stage, and why. */
export interface PlannedStage {
  name: string;
  kind: string;
  action: PlanAction;
  /** The reasons, most telling first; `reasons[0]` is shown on one line. */
  reasons: string[];
  needs: string[];
  /** Known unless an upstream stage re-runs (then it is computed once that stage has finished). */
  key?: string;
  material?: KeyMaterial;
  /** For `restore`: the run that produced the outputs. */
  cachedFrom?: string;
  manifest?: StageManifest;
}

export interface Plan {
  pipeline: string;
  /** The stages in execution order (only those selected by `--stage`, with what they need). */
  stages: PlannedStage[];
}

/** The I/O a plan needs, injected so the planner stays testable with literal inputs. */
export interface PlanDeps {
  /** Content digest of a workspace-relative input path. */
  inputDigest(path: string): Promise<string>;
  manifest(key: string): Promise<StageManifest | undefined>;
  outputsAvailable(manifest: StageManifest): Promise<boolean>;
  /** Key material and key of the stage's last completed execution in this pipeline. */
  lastExecution(stage: string): { key: string; material: KeyMaterial } | undefined;
}

export interface PlanOptions {
  force?: boolean;
  /** `--stage`: plan these stages and everything they need, nothing else. */
  only?: string[];
}

export interface StageDecision {
  action: PlanAction;
  reasons: string[];
  key: string;
  material: KeyMaterial;
  cachedFrom?: string;
  manifest?: StageManifest;
}

/** Digests of every output of each direct upstream stage, as `stage.output` → digest. */
export function upstreamDigests(stage: StageSpec, outputsOf: (stage: string) => StageManifest['outputs']): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const need of stage.needs) {
    for (const [name, out] of Object.entries(outputsOf(need))) digests[`${need}.${name}`] = out.digest;
  }
  return digests;
}

export async function stageInputDigests(stage: StageSpec, deps: Pick<PlanDeps, 'inputDigest'>): Promise<Record<string, string>> {
  const entries = await Promise.all(stage.inputs.map(async (p) => [p, await deps.inputDigest(p)] as const));
  return Object.fromEntries(entries);
}

/** Decides run vs restore for a stage whose upstream outputs are known. */
export async function decideStage(
  stage: StageSpec,
  inputs: Record<string, string>,
  upstream: Record<string, string>,
  deps: PlanDeps,
  opts: { force?: boolean },
): Promise<StageDecision> {
  const material = buildKeyMaterial(stage, stage.impl, inputs, upstream);
  const key = cacheKeyOf(material);
  const base = { key, material };
  if (opts.force) return { ...base, action: 'run', reasons: ['forced (--force)'] };
  if (!stage.cache || stage.impl.cache === false) return { ...base, action: 'run', reasons: ['cache disabled for this stage'] };
  const manifest = await deps.manifest(key);
  if (manifest && (await deps.outputsAvailable(manifest))) {
    return { ...base, action: 'restore', reasons: ['restored: identical inputs'], cachedFrom: manifest.runId, manifest };
  }
  const last = deps.lastExecution(stage.name);
  if (!last) return { ...base, action: 'run', reasons: ['never run'] };
  if (last.key === key) return { ...base, action: 'run', reasons: ['cache entry missing'] };
  return { ...base, action: 'run', reasons: explainKeyChange(last.material, material) };
}

/** `--stage` names as stages: a template's name (`train`) stands for every stage it generated (`train@a`, `train@b`). */
export function expandSelection(spec: PipelineSpec, only: readonly string[]): string[] {
  return [...new Set(only.flatMap((n) => (spec.stages[n] ? [n] : (spec.groups?.[n] ?? [n]))))];
}

/** Stages in `order` restricted to `only` (stage or template names) and everything they need. */
export function selectStages(spec: PipelineSpec, only?: string[]): string[] {
  if (!only || only.length === 0) return spec.order;
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    spec.stages[name].needs.forEach(visit);
  };
  expandSelection(spec, only).forEach(visit);
  return spec.order.filter((n) => keep.has(n));
}

/**
 * The plan `mlpipe run` executes and `mlpipe status` / `run --dry` print: per stage, run or
 * restore and the reasons. A stage below one that re-runs is planned to run ("upstream X re-runs");
 * the runner still restores it if the re-run produces identical outputs.
 */
export async function planRun(spec: PipelineSpec, deps: PlanDeps, opts: PlanOptions = {}): Promise<Plan> {
  const planned = new Map<string, PlannedStage>();
  for (const name of selectStages(spec, opts.only)) {
    const stage = spec.stages[name];
    const rerunning = stage.needs.filter((n) => planned.get(n)?.action === 'run');
    const base = { name, kind: stage.kind, needs: stage.needs };
    if (rerunning.length > 0) {
      const reasons = opts.force ? ['forced (--force)'] : rerunning.map((n) => `upstream ${n} re-runs`);
      planned.set(name, { ...base, action: 'run', reasons });
      continue;
    }
    const inputs = await stageInputDigests(stage, deps);
    const upstream = upstreamDigests(stage, (n) => planned.get(n)?.manifest?.outputs ?? {});
    const d = await decideStage(stage, inputs, upstream, deps, opts);
    planned.set(name, { ...base, action: d.action, reasons: d.reasons, key: d.key, material: d.material, cachedFrom: d.cachedFrom, manifest: d.manifest });
  }
  return { pipeline: spec.name, stages: [...planned.values()] };
}
