import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withoutConfusionCells } from '../tracker/confusion-cells.js';
import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { ModelSource } from '../models/model-input.js';
import type { RegisterModel } from './model-registration.js';
import type { OutputSpec } from '../stage-kind.js';
import type { FileHasher } from '../hash/stat-cache.js';
import { ancestors } from '../graph.js';
import { StageFailedError, GateFailedError, messageOf } from '../../errors.js';
import { cacheKey, keyMaterialOf, sameDigests, upstreamDigests } from '../cache/key.js';
import { isCacheable, lookupAfterUpstream, type CacheDecision } from '../cache/lookup.js';
import type { StageManifest } from '../cache/manifest.js';
import type { StageCache } from '../cache/stage-cache.js';
import type { Plan, PlannedStage } from './plan-run.js';
import { localExecutor, type StageDispatcher, type StageExecutor } from './executor.js';
import type { ExplainReasons, RunEvent, StageReason, StageRecord, StageSummary } from './events.js';
import { runWithConcurrency } from './concurrency.js';
import { destinationOf, runStage } from './run-stage.js';
import { copyFromWorkspace } from './stage-sandbox.js';
import type { InFlightStages } from './in-flight.js';
import { codeFilesOf } from '../code-deps/entries.js';

export interface ExecuteOptions {
  spec: PipelineSpec;
  plan: Plan;
  runId: string;
  runsDir: string;
  cache: StageCache;
  /** Hashes workspace outputs as they are saved (the stat cache). */
  hasher: FileHasher;
  /** Registered versions, read-only, for the stages (a deploy gate reads `production.*`). */
  models: ModelSource;
  /** Registers what a stage's result asks for (the run recorder: the one writer of tracker rows). */
  registerModel: RegisterModel;
  /** The `--backend` choice, handed to the stages. */
  backend: string;
  jobs: number;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
  /** Renders reasons as the line summaries and the tracker keep. */
  explain: ExplainReasons;
  /** Where stages run; the local process by default. */
  executor?: StageExecutor;
  /**
   * Every stage runs in a temporary copy of the workspace holding only what it declares it reads, and
   * restores leave workspace outs in the cache: the run writes nothing in the workspace (sweep points).
   */
  isolated?: boolean;
  /** Runs stages elsewhere (`--executor queue`); stages it declines, and every stage without it, run here. */
  dispatcher?: StageDispatcher;
  /** `--force`: carried to queue workers, which then run a stage whose key has an entry too. */
  force?: boolean;
  /** Executions under way in other runs of a sweep: a stage with the key of one waits for it and is restored. */
  inFlight?: InFlightStages;
  /** The epoch at which a search pruned a completed stage (`run --search asha`): the stages below it do not run. */
  prunedAt?: (stage: StageSummary) => number | undefined;
}

export interface ExecutionResult {
  stages: StageSummary[];
  extras: Map<string, StageRecord>;
  /** The first gate failure, if any (exit code 3). */
  gateFailure?: GateFailedError;
  /** Stages that failed because a gate did not hold (each also counts as failed). */
  gatesFailed: number;
  interrupted: boolean;
}

/** Runs a plan: stages start when their needs are done, up to `jobs` at once. */
export async function executePlan(opts: ExecuteOptions): Promise<ExecutionResult> {
  const { spec, plan } = opts;
  const runDir = join(opts.runsDir, opts.runId);
  const results = new Map<string, StageSummary>();
  const produced = new Map<string, StageManifest['outputs']>();
  const extras = new Map<string, StageRecord>();
  let gateFailure: GateFailedError | undefined;
  let gatesFailed = 0;
  const planned = new Map(plan.stages.map((s) => [s.name, s]));

  const finish = (summary: Omit<StageSummary, 'reason'>, extra: StageRecord = {}) => {
    const full = { ...summary, reason: opts.explain(summary.reasons) };
    results.set(full.name, full);
    extras.set(full.name, extra);
    opts.emit({ type: 'stage-finished', stage: full.name, summary: full, record: extra });
  };
  const started = (p: PlannedStage, action: 'run' | 'restore', reasons: StageReason[]) =>
    opts.emit({ type: 'stage-started', stage: p.name, kind: p.kind, action, reasons, reason: opts.explain(reasons) });

  const execute = async (p: PlannedStage) => {
    const stage = spec.stages[p.name];
    const base = { name: p.name, kind: stage.kind, cached: false, durationMs: 0, metrics: {} };
    const blocked = stage.needs.find((n) => results.get(n)?.status !== 'completed');
    if (blocked) {
      finish({ ...base, status: 'skipped', reasons: [{ kind: 'upstream-not-completed', stage: blocked, status: results.get(blocked)?.status ?? 'not run' }] });
      return;
    }
    const pruned = stage.needs.map((n) => ({ stage: n, epoch: opts.prunedAt?.(results.get(n)!) })).find((u) => u.epoch !== undefined);
    if (pruned) {
      finish({ ...base, status: 'skipped', reasons: [{ kind: 'upstream-pruned', stage: pruned.stage, epoch: pruned.epoch! }] });
      return;
    }
    if (opts.signal.aborted) {
      finish({ ...base, status: 'interrupted', reasons: [{ kind: 'interrupted-before-start' }] });
      return;
    }
    const startedAt = Date.now();
    let decision: CacheDecision;
    try {
      decision = await decide(stage, p, upstreamDigests(stage, (n) => produced.get(n)), opts);
    } catch (err) {
      finish({ ...base, status: 'failed', reasons: [{ kind: 'lookup-failed', error: messageOf(err) }], error: messageOf(err) });
      return;
    }
    let finished: (() => void) | undefined;
    if (decision.action === 'run' && opts.inFlight && isCacheable(stage)) {
      const other = opts.inFlight.find(decision.key);
      if (other) {
        await other;
        const entry = await opts.cache.entry(decision.key).catch(() => undefined);
        if (entry) decision = { ...decision, action: 'restore', manifest: entry, reasons: [{ kind: 'identical-inputs' }] };
      }
      if (decision.action === 'run') finished = opts.inFlight.start(decision.key);
    }
    try {
      await executeDecided(p, stage, decision, startedAt);
    } finally {
      finished?.();
    }
  };

  const executeDecided = async (p: PlannedStage, stage: StageSpec, decision: CacheDecision, startedAt: number) => {
    const base = { name: p.name, kind: stage.kind, cached: false, durationMs: 0, metrics: {} };
    let reasons: StageReason[] = decision.reasons;
    started(p, decision.action, reasons);
    const extra: StageRecord = { key: decision.key, material: decision.material };
    const outputs = stage.impl.outputs(stage.config);
    const shown = displayOutputs(spec, outputs, runDir, p.name);
    try {
      if (decision.action === 'restore' && decision.manifest) {
        await mkdir(join(runDir, stage.name), { recursive: true });
        const targets = restoreTargets(spec, runDir, stage.name, outputs, opts.isolated === true);
        const restoring = { ...decision.manifest, outputs: Object.fromEntries(Object.entries(decision.manifest.outputs).filter(([name]) => targets[name])) };
        if (await opts.cache.restore(restoring, targets, stage.name)) {
          const { metrics } = decision.manifest;
          produced.set(p.name, decision.manifest.outputs);
          for (const [key, value] of Object.entries(metrics)) opts.emit({ type: 'stage-metric', stage: p.name, key, value, step: null });
          finish(
            { ...base, status: 'completed', cached: true, cachedFrom: decision.manifest.runId, reasons, durationMs: Date.now() - startedAt, metrics: withoutConfusionCells(metrics), outputs: shown },
            { ...extra, manifest: decision.manifest },
          );
          return;
        }
        reasons = [{ kind: 'entry-unusable' }];
        started(p, 'run', reasons);
      }
      const upstreamMetrics = Object.fromEntries(ancestors(spec, p.name).map((a) => [a, results.get(a)?.metrics ?? {}]));
      const local = opts.dispatcher?.runsLocally(stage);
      if (local) opts.emit({ type: 'stage-progress', stage: p.name, message: local });
      const { manifest, backend, nondeterministic } =
        opts.dispatcher && !local
          ? await dispatchStage(opts.dispatcher, stage, decision, upstreamMetrics)
          : await withRetries(stage, opts, (emit) => {
              const isolated = opts.isolated
                ? { input: copyFromWorkspace(spec.dir, opts.runsDir), upstream: (n: string) => produced.get(n), store: opts.cache.store, code: codeFilesOf(decision.material?.inputs) }
                : undefined;
              return runStage({ ...opts, emit, runDir, executor: opts.executor ?? localExecutor, isolated }, stage, outputs, decision.key, upstreamMetrics, decision.material?.inputs);
            });
      produced.set(p.name, manifest.outputs);
      finish(
        { ...base, status: 'completed', reasons, durationMs: Date.now() - startedAt, metrics: withoutConfusionCells(manifest.metrics), outputs: shown, backend, ...(nondeterministic ? { nondeterministic } : {}) },
        { ...extra, manifest },
      );
    } catch (err) {
      if (err instanceof GateFailedError) {
        gateFailure ??= err;
        gatesFailed += 1;
      }
      const interrupted = opts.signal.aborted;
      if (interrupted && !opts.isolated) await removeWorkspaceOutputs(opts.spec, outputs);
      finish(
        {
          ...base,
          status: interrupted ? 'interrupted' : 'failed',
          reasons,
          durationMs: Date.now() - startedAt,
          error: messageOf(err),
          lastLines: err instanceof StageFailedError ? err.lastLines : undefined,
        },
        extra,
      );
    }
  };

  /** Runs a stage on a worker, then restores its outputs into this run from the cache (the remote behind it). */
  const dispatchStage = async (dispatcher: StageDispatcher, stage: StageSpec, decision: CacheDecision, upstreamMetrics: Record<string, Record<string, number>>) => {
    const done = await dispatcher.dispatch({
      spec,
      stage,
      runId: opts.runId,
      key: decision.key,
      force: opts.force === true,
      code: codeFilesOf(decision.material?.inputs),
      produced: (n) => produced.get(n),
      upstreamMetrics,
      backend: opts.backend,
      hasher: opts.hasher,
      signal: opts.signal,
      emit: opts.emit,
    });
    const outputs = stage.impl.outputs(stage.config);
    await mkdir(join(runDir, stage.name), { recursive: true });
    const targets = restoreTargets(spec, runDir, stage.name, outputs, opts.isolated === true);
    const restoring = { ...done.manifest, outputs: Object.fromEntries(Object.entries(done.manifest.outputs).filter(([name]) => targets[name])) };
    if (!(await opts.cache.restore(restoring, targets, stage.name))) {
      throw new StageFailedError(stage.name, `stage ${stage.name} completed on a worker, but its outputs could not be restored from ${opts.cache.store.location}`);
    }
    if (done.nondeterministic) opts.cache.warnNondeterministic(stage.name, done.nondeterministic);
    return done;
  };

  await runWithConcurrency(
    plan.stages.map((s) => ({ id: s.name, needs: s.needs.filter((n) => planned.has(n)), run: () => execute(s) })),
    opts.jobs,
  );
  return { stages: plan.stages.map((s) => results.get(s.name)!), extras, gateFailure, gatesFailed, interrupted: opts.signal.aborted };
}

/**
 * Runs `attempt` up to `retries + 1` times (`retries:` in the spec) until it succeeds. With retries,
 * a stage's metric points are held back until its attempt succeeds, so a failed attempt records none.
 */
async function withRetries<T>(stage: StageSpec, opts: ExecuteOptions, attempt: (emit: (e: RunEvent) => void) => Promise<T>): Promise<T> {
  if (stage.retries === 0) return attempt(opts.emit);
  for (let n = 1; ; n++) {
    const held: RunEvent[] = [];
    try {
      const result = await attempt((e) => (e.type === 'stage-metric' ? held.push(e) : opts.emit(e)));
      held.forEach(opts.emit);
      return result;
    } catch (err) {
      if (n > stage.retries || opts.signal.aborted || err instanceof GateFailedError) throw err;
      opts.emit({ type: 'stage-progress', stage: stage.name, message: `attempt ${n} of ${stage.retries + 1} failed (${messageOf(err)}); trying again` });
    }
  }
}

/**
 * The decision the run takes for a stage, now that its upstream outputs are known: the plan's
 * when it was keyed on exactly these outputs; for a `run` keyed on others (forced, or below a
 * re-run) the plan's reasons over the actual key; else a lookup over the actual outputs (a
 * `pending` stage, or one whose upstream came out other than planned, e.g. after a corrupt entry).
 */
async function decide(stage: StageSpec, p: PlannedStage, upstream: Record<string, string>, opts: ExecuteOptions): Promise<CacheDecision> {
  if (p.action !== 'pending' && p.key && p.material && (p.frozen || sameDigests(p.material.upstream, upstream))) {
    return { action: p.action, reasons: p.reasons, key: p.key, material: p.material, manifest: p.manifest };
  }
  // a stage that runs only because no cache held what the lock vouched for is looked up again when its upstream came out otherwise
  if (p.action === 'run' && p.reasons[0]?.kind !== 'locked-not-cached') {
    const material = keyMaterialOf(stage, p.inputs, upstream);
    return { action: 'run', reasons: p.reasons, key: cacheKey(material), material };
  }
  const planned = p.material?.upstream ?? {};
  const rerun = p.after ?? stage.needs.filter((n) => Object.keys(upstream).some((k) => k.startsWith(`${n}.`) && upstream[k] !== planned[k]));
  return lookupAfterUpstream(stage, p.inputs, upstream, rerun, opts.cache);
}

function displayOutputs(spec: PipelineSpec, outputs: Record<string, OutputSpec>, runDir: string, stage: string): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([n, o]) => [n, destinationOf(spec, runDir, stage, o)]));
}

/** Where a restore writes each output; an isolated run leaves workspace outs in the cache. */
function restoreTargets(spec: PipelineSpec, runDir: string, stage: string, outputs: Record<string, OutputSpec>, isolated: boolean) {
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([, o]) => !isolated || o.location === 'stage')
      .map(([name, o]) => [name, { path: destinationOf(spec, runDir, stage, o), link: o.location === 'stage' }]),
  );
}

/** Removes an interrupted stage's outs from the workspace, so no half-written file looks like a result; `persist` outs (checkpoints) stay. */
async function removeWorkspaceOutputs(spec: PipelineSpec, outputs: Record<string, OutputSpec>): Promise<void> {
  for (const o of Object.values(outputs)) {
    if (o.location === 'workspace' && !o.persist) await rm(join(spec.dir, o.path), { recursive: true, force: true });
  }
}
