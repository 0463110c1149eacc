import type { PipelineSpec, StageSpec } from '../spec/types.js';
import { subgraphFor } from '../graph.js';
import { upstreamDigests, type KeyMaterial } from '../cache/key.js';
import { isCacheable, lookupStage, type CacheIndex } from '../cache/lookup.js';
import type { StageManifest } from '../cache/manifest.js';
import type { CacheReason } from '../cache/reasons.js';
import { UserError } from '../../errors.js';
import { MODEL_INPUT_PREFIX } from '../models/model-input.js';
import { CODE_INPUT_PREFIX } from '../code-deps/entries.js';
import type { LockedStage, LockIndex } from '../lock/lock-file.js';

/**
 * - `run`: the stage runs (its key has no entry, or it is forced or never cached);
 * - `restore`: its outputs come from the cache entry under its key;
 * - `pending`: an upstream stage re-runs, so its key is known only once that stage has finished:
 *   it is restored if the new upstream outputs give a key with an entry (early cutoff), else it runs.
 */
export type PlanAction = 'run' | 'restore' | 'pending';

/** What will happen to one stage, and why. */
export interface PlannedStage {
  name: string;
  kind: string;
  action: PlanAction;
  /** The reasons, most telling first. For `pending`: the upstream stages that re-run, then what else changed. */
  reasons: CacheReason[];
  needs: string[];
  /** Digests of the stage's input files when planned; the run keys the stage on these. */
  inputs: Record<string, string>;
  /** Known unless an upstream stage re-runs. */
  key?: string;
  material?: KeyMaterial;
  /** For `restore`: the run that produced the outputs. */
  cachedFrom?: string;
  manifest?: StageManifest;
  /** For `pending`: the re-running stages upstream whose outputs decide this one. */
  after?: string[];
  /**
   * For `pending`: the outcome if those stages' outputs come out as they were last time — `restore`
   * (an entry exists for that key) or `run` (it runs anyway, unless they match some other cached
   * run). Absent when their earlier outputs are not known.
   */
  ifUnchanged?: 'restore' | 'run';
  /** `frozen: true`: a `restore` of the stage's last completed run, keyed as that run was; never decided again. */
  frozen?: boolean;
  /**
   * How the stage stands against the lock file, when there is one: `matches` (its key now is the
   * locked key: up to date, whether or not a cache here holds its outputs), `differs`, or `absent`
   * (the lock has no entry for it). Absent for `pending` stages and when there is no lock file.
   */
  lock?: 'matches' | 'differs' | 'absent';
  /** For `restore`: set when the entry was made by a run this tracker did not record itself (a teammate's, through a remote); `manifest.provenance` says whose. */
  foreign?: boolean;
}

export interface Plan {
  pipeline: string;
  /** The lock file planned against (its name, e.g. `pipeline.lock`), when there is one. */
  lockFile?: string;
  /** The stages in execution order (only those selected by `--stage`, with what they need). */
  stages: PlannedStage[];
}

/** The I/O a plan needs, injected so the planner stays testable with literal inputs. */
export interface PlanDeps {
  /** Content digest of a workspace-relative input path. */
  inputDigest(path: string): Promise<string>;
  /** Digest of a model a stage reads by reference ({@link StageKind.modelRefs}); absent: such a stage cannot be planned. */
  modelDigest?(ref: string, stage: StageSpec): Promise<string>;
  /** The code files the stage's command runs ({@link StageKind.codeEntries}) and their digests, by spec-relative path; absent: code is not keyed. */
  codeDigests?(stage: StageSpec): Promise<Record<string, string>>;
  cache: CacheIndex;
  /** The spec's lock file, when there is one: stages whose key matches it are up to date, and their locked outputs key the stages below. */
  lock?: LockIndex;
}

export interface PlanOptions {
  force?: boolean;
  /** `--stage`: plan these stages and everything they need, nothing else. */
  only?: string[];
}

/** `--stage` names as stages: a template's name (`train`) stands for every stage it generated (`train@a`, `train@b`). */
export function expandSelection(spec: PipelineSpec, only: readonly string[]): string[] {
  return [...new Set(only.flatMap((n) => (spec.stages[n] ? [n] : (spec.groups?.[n] ?? [n]))))];
}

/** The stages a run covers: all of them, or those of `--stage` (stage or template names) with everything they need, in order. */
export function selectedStages(spec: PipelineSpec, only?: string[]): string[] {
  return only && only.length > 0 ? subgraphFor(spec, expandSelection(spec, only)) : spec.order;
}

/** The digests a stage is keyed on besides its upstream outputs: its input files, the models it reads by reference (as `model:REF`) and the code its command runs (as `code:PATH`). */
export async function stageInputDigests(stage: StageSpec, deps: Pick<PlanDeps, 'inputDigest' | 'modelDigest' | 'codeDigests'>): Promise<Record<string, string>> {
  const entries = await Promise.all(stage.inputs.map(async (p) => [p, await deps.inputDigest(p)] as const));
  for (const ref of stage.impl.modelRefs?.(stage.config) ?? []) {
    if (!deps.modelDigest) throw new UserError(`stage ${stage.name} reads the model ${ref}, and no model registry is at hand to resolve it`);
    entries.push([`${MODEL_INPUT_PREFIX}${ref}`, await deps.modelDigest(ref, stage)]);
  }
  if (deps.codeDigests && stage.impl.codeEntries) {
    for (const [path, digest] of Object.entries(await deps.codeDigests(stage))) entries.push([`${CODE_INPUT_PREFIX}${path}`, digest]);
  }
  return Object.fromEntries(entries);
}

/**
 * The plan `mlpipe run` executes and `mlpipe status` / `run --dry` print: per stage run, restore
 * or pending, and why. A stage below one that re-runs is `pending`, with what happens if the
 * re-run gives the outputs it gave last time; the runner decides it when its upstream is done.
 */
export async function planRun(spec: PipelineSpec, deps: PlanDeps, opts: PlanOptions = {}): Promise<Plan> {
  const planned = new Map<string, PlannedStage>();
  /** Each stage's outputs as far as the plan can tell: the entry it restores, or what it gave last time. */
  const expected = new Map<string, Record<string, { digest: string }> | undefined>();
  const lastOutputs = async (name: string) => {
    const last = await deps.cache.lastExecution(name);
    return last ? (await deps.cache.entry(last.key))?.outputs : undefined;
  };
  /** Stages whose key matches the lock: their locked outputs stand in for outputs no cache here holds. */
  const locked = new Map<string, LockedStage>();
  const knownOutputs = (n: string) => planned.get(n)?.manifest?.outputs ?? locked.get(n)?.outs;
  for (const name of selectedStages(spec, opts.only)) {
    const stage = spec.stages[name];
    const base = { name, kind: stage.kind, needs: stage.needs, inputs: await stageInputDigests(stage, deps) };
    if (stage.frozen) {
      const frozen = await planFrozen(spec, stage, base, deps.cache);
      const entry = deps.lock?.stage(name);
      const lock = deps.lock ? (entry ? (entry.key === frozen.key ? 'matches' : 'differs') : 'absent') : undefined;
      planned.set(name, { ...frozen, ...(lock ? { lock } : {}) });
      expected.set(name, frozen.manifest!.outputs);
      continue;
    }
    const waiting = stage.needs.filter((n) => planned.get(n)?.action !== 'restore' && !locked.has(n));
    if (waiting.length === 0) {
      const upstream = upstreamDigests(stage, knownOutputs);
      const d = await lookupStage(stage, base.inputs, upstream, deps.cache, opts);
      const entry = deps.lock?.stage(name);
      const lock = deps.lock ? (entry ? (entry.key === d.key ? 'matches' : 'differs') : 'absent') : undefined;
      const reasons = lock === 'matches' && d.action === 'run' && !opts.force && isCacheable(stage) ? [{ kind: 'locked-not-cached', lockFile: deps.lock!.file } as const] : d.reasons;
      if (lock === 'matches') locked.set(name, entry!);
      planned.set(name, { ...base, action: d.action, reasons, key: d.key, material: d.material, cachedFrom: d.manifest?.runId, manifest: d.manifest, ...(lock ? { lock } : {}) });
      expected.set(name, d.manifest?.outputs ?? (lock === 'matches' ? entry!.outs : d.action === 'run' && !opts.force ? await lastOutputs(name) : undefined));
      continue;
    }
    if (opts.force || !isCacheable(stage)) {
      planned.set(name, { ...base, action: 'run', reasons: [{ kind: opts.force ? 'forced' : 'cache-disabled' }] });
      expected.set(name, undefined);
      continue;
    }
    const after = [...new Set(waiting.flatMap((n) => (planned.get(n)!.action === 'run' ? [n] : (planned.get(n)!.after ?? []))))];
    const upstreamReasons = after.map((s): CacheReason => ({ kind: 'upstream-reruns', stage: s }));
    const pending: PlannedStage = { ...base, action: 'pending', reasons: upstreamReasons, after };
    if (stage.needs.every((n) => expected.get(n))) {
      const hypothetical = await lookupStage(stage, base.inputs, upstreamDigests(stage, (n) => expected.get(n)), deps.cache);
      pending.ifUnchanged = hypothetical.action;
      if (hypothetical.action === 'run') {
        pending.reasons = [...upstreamReasons, ...hypothetical.reasons.filter((r) => r.kind !== 'never-run' && r.kind !== 'upstream-output-changed')];
      }
      expected.set(name, hypothetical.manifest?.outputs);
    }
    planned.set(name, pending);
  }
  return { pipeline: spec.name, ...(deps.lock ? { lockFile: deps.lock.file } : {}), stages: [...planned.values()] };
}

/**
 * Whether `mlpipe run` would change something for a stage (what `status --exit-code` reports):
 * with a lock file, its key now is not the locked one (or the lock has no entry for it); without
 * one, it would run. A `pending` stage is always stale.
 */
export function isStale(plan: Pick<Plan, 'lockFile'>, s: PlannedStage): boolean {
  if (s.action === 'pending') return true;
  if (plan.lockFile !== undefined) return s.lock !== 'matches';
  return s.action !== 'restore';
}

/**
 * A frozen stage (DVC `frozen: true`) never runs: it restores the entry of its last completed run,
 * under that run's key, whatever changed since. Without one there is nothing to keep: an error.
 */
async function planFrozen(spec: PipelineSpec, stage: StageSpec, base: Pick<PlannedStage, 'name' | 'kind' | 'needs' | 'inputs'>, cache: CacheIndex): Promise<PlannedStage> {
  const last = await cache.lastExecution(stage.name);
  const manifest = last ? await cache.entry(last.key) : undefined;
  if (!last || !manifest) {
    throw new UserError(
      `${spec.file}:${stage.pos.line}:${stage.pos.col} stage ${stage.name} is frozen (frozen: true) but has ${last ? 'lost the cached outputs of its last run' : 'no completed run'} whose outputs it could keep`,
      { hint: `remove "frozen: true" from ${stage.name}, run it once (mlpipe run --stage ${stage.name}), then freeze it again` },
    );
  }
  return { ...base, action: 'restore', reasons: [{ kind: 'frozen', runId: manifest.runId }], key: last.key, material: last.material, cachedFrom: manifest.runId, manifest, frozen: true };
}
