import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { withoutConfusionCells } from '../tracker/confusion-cells.js';
import { isAbsolute, join, relative } from 'node:path';
import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { ObjectStore, OutputManifest, StageManifest } from '../store/types.js';
import type { ModelRegistry } from '../tracker/types.js';
import type { OutputSpec, StageContext } from '../stage-kind.js';
import { StageFailedError, GateFailedError, messageOf } from '../../errors.js';
import { substituteOutputRefs } from '../spec/interpolate.js';
import { resolveConfigPaths } from '../spec/resolve-paths.js';
import { commitOutputs, restoreOutputs } from '../cache/stage-outputs.js';
import { CacheCorruptError, MissingObjectError } from '../store/errors.js';
import { pauseForTest } from '../store/test-hooks.js';
import type { StatCache } from '../hash/stat-cache.js';
import { decideStage, stageInputDigests, upstreamDigests, type Plan, type PlanDeps, type PlannedStage, type StageDecision } from './plan-run.js';
import { localExecutor, type StageExecutor } from './executor.js';
import type { RunEvent, StageRecord, StageSummary } from './events.js';
import { runWithConcurrency } from './concurrency.js';

export interface ExecuteOptions {
  spec: PipelineSpec;
  plan: Plan;
  runId: string;
  runsDir: string;
  store: ObjectStore;
  statCache: StatCache;
  deps: PlanDeps;
  registry: ModelRegistry;
  /** The `--backend` choice, handed to the stages. */
  backend: string;
  force?: boolean;
  jobs: number;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
  /** Told about cache entries that could not be used (a corrupt or missing object); the stage then runs. */
  onWarning?: (message: string) => void;
  /** Where stages run; the local process by default. */
  executor?: StageExecutor;
}


export interface ExecutionResult {
  stages: StageSummary[];
  extras: Map<string, StageRecord>;
  /** The first gate failure, if any (exit code 3). */
  gateFailure?: GateFailedError;
  interrupted: boolean;
}

const TAIL_LINES = 20;

/** Runs a plan: stages start when their needs are done, up to `jobs` at once. */
export async function executePlan(opts: ExecuteOptions): Promise<ExecutionResult> {
  const { spec, plan } = opts;
  const runDir = join(opts.runsDir, opts.runId);
  const results = new Map<string, StageSummary>();
  const manifests = new Map<string, StageManifest['outputs']>();
  const extras = new Map<string, StageRecord>();
  let gateFailure: GateFailedError | undefined;
  const planned = new Map(plan.stages.map((s) => [s.name, s]));

  const outputPath = (stage: string, output: string): string => {
    const spec0 = spec.stages[stage].impl.outputs(spec.stages[stage].config)[output];
    return destinationOf(spec, runDir, stage, spec0);
  };

  const finish = (summary: StageSummary, extra: StageRecord = {}) => {
    results.set(summary.name, summary);
    extras.set(summary.name, extra);
    opts.emit({ type: 'stage-finished', stage: summary.name, summary, record: extra });
  };

  const execute = async (p: PlannedStage) => {
    const stage = spec.stages[p.name];
    const base = { name: p.name, kind: stage.kind, cached: false, durationMs: 0, metrics: {} };
    const blocked = stage.needs.find((n) => results.get(n)?.status !== 'completed');
    if (blocked) {
      finish({ ...base, status: 'skipped', reason: `upstream ${blocked} ${results.get(blocked)?.status ?? 'did not run'}` });
      return;
    }
    if (opts.signal.aborted) {
      finish({ ...base, status: 'interrupted', reason: 'interrupted before it started' });
      return;
    }
    const started = Date.now();
    let decision: StageDecision;
    try {
      decision = p.key && p.material && upstreamAsPlanned(stage, p, manifests) ? planToDecision(p) : await decideNow(stage, p, manifests, opts);
    } catch (err) {
      finish({ ...base, status: 'failed', reason: 'inputs could not be read', error: messageOf(err) });
      return;
    }
    let reason = decision.reasons[0];
    opts.emit({ type: 'stage-started', stage: p.name, kind: stage.kind, action: decision.action, reason });
    const extra: StageRecord = { key: decision.key, material: decision.material };
    const outputs = stage.impl.outputs(stage.config);
    try {
      const restored = decision.action === 'restore' && decision.manifest && (await tryRestore(opts, runDir, stage, outputs, decision.manifest));
      if (decision.action === 'restore' && !restored) {
        reason = 'cache entry unusable (corrupt or missing object); running the stage';
        opts.emit({ type: 'stage-started', stage: p.name, kind: stage.kind, action: 'run', reason });
      }
      if (restored && decision.manifest) {
        manifests.set(p.name, decision.manifest.outputs);
        const metrics = decision.manifest.metrics;
        for (const [key, value] of Object.entries(metrics)) opts.emit({ type: 'stage-metric', stage: p.name, key, value, step: null });
        finish(
          { ...base, status: 'completed', cached: true, cachedFrom: decision.cachedFrom, reason, durationMs: Date.now() - started, metrics: withoutConfusionCells(metrics), outputs: displayOutputs(spec, outputs, runDir, p.name) },
          { ...extra, manifest: decision.manifest },
        );
        return;
      }
      const upstreamMetrics = Object.fromEntries(ancestorsOf(spec, p.name).map((a) => [a, results.get(a)?.metrics ?? {}]));
      const { manifest, backend } = await runStage(opts, runDir, stage, outputs, decision, outputPath, upstreamMetrics);
      manifests.set(p.name, manifest.outputs);
      finish(
        { ...base, status: 'completed', reason, durationMs: Date.now() - started, metrics: withoutConfusionCells(manifest.metrics), outputs: displayOutputs(spec, outputs, runDir, p.name), backend },
        { ...extra, manifest },
      );
    } catch (err) {
      if (err instanceof GateFailedError) gateFailure ??= err;
      const interrupted = opts.signal.aborted;
      if (interrupted) await removeWorkspaceOutputs(opts.spec, outputs);
      finish(
        {
          ...base,
          status: interrupted ? 'interrupted' : 'failed',
          reason,
          durationMs: Date.now() - started,
          error: messageOf(err),
          lastLines: err instanceof StageFailedError ? err.lastLines : undefined,
        },
        extra,
      );
    }
  };

  await runWithConcurrency(
    plan.stages.map((s) => ({ id: s.name, needs: s.needs.filter((n) => planned.has(n)), run: () => execute(s) })),
    opts.jobs,
  );
  return { stages: plan.stages.map((s) => results.get(s.name)!), extras, gateFailure, interrupted: opts.signal.aborted };
}

function ancestorsOf(spec: PipelineSpec, name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => spec.stages[n].needs.forEach((m) => !seen.has(m) && (seen.add(m), visit(m)));
  visit(name);
  return spec.order.filter((n) => seen.has(n));
}

/** Whether the upstream outputs the plan keyed this stage on are the ones this run actually has. */
function upstreamAsPlanned(stage: StageSpec, p: PlannedStage, manifests: Map<string, StageManifest['outputs']>): boolean {
  const actual = upstreamDigests(stage, (n) => manifests.get(n) ?? {});
  const planned = p.material?.upstream ?? {};
  const keys = new Set([...Object.keys(actual), ...Object.keys(planned)]);
  return [...keys].every((k) => actual[k] === planned[k]);
}

function planToDecision(p: PlannedStage): StageDecision {
  return { action: p.action, reasons: p.reasons, key: p.key!, material: p.material!, cachedFrom: p.cachedFrom, manifest: p.manifest };
}

async function decideNow(stage: StageSpec, p: PlannedStage, manifests: Map<string, StageManifest['outputs']>, opts: ExecuteOptions): Promise<StageDecision> {
  const inputs = await stageInputDigests(stage, opts.deps);
  const upstream = upstreamDigests(stage, (n) => manifests.get(n) ?? {});
  const d = await decideStage(stage, inputs, upstream, opts.deps, { force: opts.force });
  if (d.action === 'restore') return { ...d, reasons: ['restored: upstream outputs identical'] };
  return { ...d, reasons: [...p.reasons, ...d.reasons.filter((r) => r !== 'never run' && !r.startsWith('upstream output'))] };
}

function destinationOf(spec: PipelineSpec, runDir: string, stage: string, out: OutputSpec): string {
  return out.location === 'workspace' ? join(spec.dir, out.path) : join(runDir, stage, out.path);
}

function displayOutputs(spec: PipelineSpec, outputs: Record<string, OutputSpec>, runDir: string, stage: string): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([n, o]) => [n, destinationOf(spec, runDir, stage, o)]));
}

/**
 * Restores a cached stage, every object's hash verified first. A corrupt object (quarantined by the
 * store) or a missing one is a warning and returns false: the stage then runs instead.
 */
async function tryRestore(opts: ExecuteOptions, runDir: string, stage: StageSpec, outputs: Record<string, OutputSpec>, manifest: StageManifest): Promise<boolean> {
  const dests = Object.fromEntries(
    Object.entries(outputs).map(([name, o]) => [name, { path: destinationOf(opts.spec, runDir, stage.name, o), link: o.location === 'stage' }]),
  );
  await mkdir(join(runDir, stage.name), { recursive: true });
  try {
    await restoreOutputs(opts.store, manifest.outputs, dests, { verify: true });
    return true;
  } catch (err) {
    if (!(err instanceof CacheCorruptError || err instanceof MissingObjectError)) throw err;
    opts.onWarning?.(`${stage.name}: ${err.message}`);
    return false;
  }
}

/** Removes an interrupted stage's outs from the workspace, so no half-written file looks like a result. */
async function removeWorkspaceOutputs(spec: PipelineSpec, outputs: Record<string, OutputSpec>): Promise<void> {
  for (const o of Object.values(outputs)) {
    if (o.location === 'workspace') await rm(join(spec.dir, o.path), { recursive: true, force: true });
  }
}

async function runStage(
  opts: ExecuteOptions,
  runDir: string,
  stage: StageSpec,
  outputs: Record<string, OutputSpec>,
  decision: StageDecision,
  outputPath: (stage: string, output: string) => string,
  upstreamMetrics: Record<string, Record<string, number>>,
): Promise<{ manifest: StageManifest; backend?: string }> {
  const kind = stage.impl;
  const tmpRoot = join(opts.runsDir, 'tmp');
  await mkdir(tmpRoot, { recursive: true });
  const outDir = await mkdtemp(join(tmpRoot, `${opts.runId}-${stage.name}-`));
  try {
    const outputAbs: Record<string, string> = {};
    for (const [name, o] of Object.entries(outputs)) {
      outputAbs[name] = o.location === 'workspace' ? join(opts.spec.dir, o.path) : join(outDir, o.path);
      if (o.location === 'workspace') await rm(outputAbs[name], { recursive: true, force: true });
    }
    const forShell = stage.kind === 'shell';
    const refPath = (s: string, o: string) => {
      const abs = outputPath(s, o);
      const rel = relative(opts.spec.dir, abs);
      return forShell && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
    };
    const substituted = substituteOutputRefs(stage.config, refPath) as Record<string, unknown>;
    const config = resolveConfigPaths(kind.config, substituted, opts.spec.dir) as Record<string, unknown>;
    const tail: string[] = [];
    const metrics: Record<string, number> = {};
    const ctx: StageContext = {
      stage: stage.name,
      config,
      workspace: opts.spec.dir,
      outDir,
      outputs: outputAbs,
      runId: opts.runId,
      runsDir: opts.runsDir,
      signal: opts.signal,
      log: (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        opts.emit({ type: 'stage-output', stage: stage.name, line });
      },
      progress: (message) => opts.emit({ type: 'stage-progress', stage: stage.name, message }),
      logMetric: (key, value, step) => opts.emit({ type: 'stage-metric', stage: stage.name, key, value, step: step ?? null }),
      upstreamMetrics,
      registry: opts.registry,
      backend: opts.backend,
    };
    let result;
    try {
      result = await (opts.executor ?? localExecutor).execute(kind, ctx);
    } catch (err) {
      if (err instanceof StageFailedError || err instanceof GateFailedError) throw err;
      throw new StageFailedError(stage.name, messageOf(err), { lastLines: [...tail], cause: err });
    }
    for (const [key, value] of Object.entries(result?.metrics ?? {})) {
      if (!Number.isFinite(value)) {
        ctx.log(`metric ${key} is ${value}; not recorded`);
        continue;
      }
      metrics[key] = value;
      ctx.logMetric(key, value);
    }
    for (const [name, path] of Object.entries(outputAbs)) {
      if (!(await exists(path))) {
        throw new StageFailedError(stage.name, `stage ${stage.name} did not write its output ${name} (${relative(opts.spec.dir, path) || path})`, {
          lastLines: [...tail],
        });
      }
    }
    await pauseForTest('commit');
    const committed: Record<string, OutputManifest> = await commitOutputs(
      opts.store,
      opts.statCache,
      Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, { path: outputAbs[name], move: o.location === 'stage' }])),
    );
    const manifest: StageManifest = {
      schemaVersion: 1,
      key: decision.key,
      stage: stage.name,
      kind: stage.kind,
      runId: opts.runId,
      createdAt: Date.now(),
      outputs: committed,
      metrics,
    };
    const stageOnly = Object.fromEntries(Object.entries(outputs).filter(([, o]) => o.location === 'stage'));
    await mkdir(join(runDir, stage.name), { recursive: true });
    await restoreOutputs(
      opts.store,
      Object.fromEntries(Object.keys(stageOnly).map((n) => [n, committed[n]])),
      Object.fromEntries(Object.entries(stageOnly).map(([n, o]) => [n, { path: destinationOf(opts.spec, runDir, stage.name, o), link: true }])),
    );
    if (stage.cache && kind.cache !== false) await opts.store.putManifest(manifest);
    return { manifest, backend: result?.backend };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
