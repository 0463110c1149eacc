import { createHash } from 'node:crypto';
import { newRunId } from './run-id.js';
import { mkdir, realpath } from 'node:fs/promises';
import { pointLatest } from './point-latest.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import type { ExitCodeValue } from '../../exit-codes.js';
import { UserError, exitCodeOf, messageOf } from '../../errors.js';
import { gitCommit } from '../git-commit.js';
import { openWorkspace } from '../workspace/workspace.js';
import { checkWritable, recoverFromKilledRuns } from './prepare-runs-folder.js';
import { planRun, selectedStages, type Plan } from './plan-run.js';
import { planDepsFor, stageCacheFor } from './plan-deps.js';
import { acquireLock, acquireWorkspaceLock, describeHolder } from '../workspace-lock.js';
import { markHolderInterrupted, stopOrphansOf } from './lock-takeover.js';
import { hasKernelLocks } from '../flock.js';
import type { Workspace } from '../workspace/workspace.js';
import { executePlan } from './execute-plan.js';
import type { StageDispatcher, StageExecutor } from './executor.js';
import type { CacheLinkType, ObjectStore } from '../store/types.js';
import { ReadThroughStore } from '../store/read-through-store.js';
import type { ExplainReasons, RunEvent, RunObserver, StageSummary } from './events.js';
import { TrackerRecorder } from './tracker-recorder.js';
import type { InFlightStages } from './in-flight.js';
import { StageLogWriter } from './stage-logs.js';
import { openLockIndex } from '../lock/lock-file.js';
import { provenanceHere } from '../cache/provenance.js';
import { writeRunLock } from './write-run-lock.js';
import { writeRunGitignore } from './write-run-gitignore.js';
import { withForeignOrigins } from './plan-origins.js';

export interface RunPipelineOptions {
  spec: PipelineSpec;
  runsDir: string;
  force?: boolean;
  /** `--stage`: these stages and what they need. */
  only?: string[];
  jobs: number;
  /** The `--backend` choice, handed to the stages. */
  backend: string;
  observers: RunObserver[];
  signal: AbortSignal;
  sweepId?: string;
  /** `run --name`: the run's name (sweep points share it). */
  name?: string;
  /** `run --tag k=v`: tags recorded with the run. */
  tags?: Record<string, string>;
  onWarning?: (message: string) => void;
  /** Where stages run (DESIGN.md section 9); the local process by default. */
  executor?: StageExecutor;
  /** `--lock-timeout`: how long to wait for another run's workspace lock; default as long as it takes. */
  lockTimeoutMs?: number;
  /** Renders stage reasons as the one line summaries and the tracker keep (`src/render/reasons.ts`). */
  explain: ExplainReasons;
  /** Run every stage in a temporary copy of the workspace and write nothing there (`mlpipe checkout RUN` brings the outputs back). */
  isolated?: boolean;
  /** Stage executions under way in the other points of a sweep (each shared stage runs once). */
  inFlight?: InFlightStages;
  /** Runs stages on other machines (`--executor queue`); the stages it declines run here. */
  dispatcher?: StageDispatcher;
  /** A remote cache behind the local one: entries found there are restored (fetched into the local cache). */
  remote?: ObjectStore;
  /** How restored workspace outs are placed (mlpipe.yaml `cache.type`): default reflink, else copy. */
  cacheTypes?: readonly CacheLinkType[];
  /** Tags the run gets when it ends, from how its stages ended (a search trial: `pruned=EPOCH`). */
  tagsAtEnd?: (stages: readonly StageSummary[]) => Record<string, string>;
  /** The epoch at which a search pruned a completed stage: the stages below it do not run. */
  prunedAt?: (stage: StageSummary) => number | undefined;
}

/** The `--json` summary of `mlpipe run`: a public, versioned contract that CI scripts parse. */
export interface RunSummary {
  schemaVersion: 1;
  runId: string;
  pipeline: string;
  status: 'completed' | 'failed' | 'interrupted';
  params: Record<string, unknown>;
  backend: string | null;
  durationMs: number;
  stages: StageSummary[];
  /** Final metrics as `stage.key`. */
  metrics: Record<string, number>;
  artifacts: { stage: string; name: string; path: string; digest: string }[];
  exitCode: ExitCodeValue;
  error?: string;
  /** The lock file the run updated (absolute path), and whether its bytes changed; absent for isolated runs and sweep points, which write none. */
  lock?: { path: string; changed: boolean };
  /** The `.gitignore` whose mlpipe block the run wrote (absolute path), and whether its bytes changed; absent outside git or for isolated runs. */
  gitignore?: { path: string; changed: boolean };
}

export { newRunId } from './run-id.js';

/** Checks `--stage` names before anything is written. */
export function checkSelectedStages(spec: PipelineSpec, only?: string[]): void {
  const unknown = (only ?? []).filter((s) => !spec.stages[s] && !spec.groups?.[s]);
  if (unknown.length > 0) {
    const groups = Object.keys(spec.groups ?? {});
    throw new UserError(`unknown stage ${unknown.join(', ')} in --stage; stages of ${spec.name}: ${spec.order.join(', ')}${groups.length ? `; templates: ${groups.join(', ')}` : ''}`);
  }
}

/**
 * Plans without executing (`mlpipe status`, `run --dry`, `push` / `pull`), against the lock file
 * when there is one; with `remote`, entries found there count as cached (nothing is fetched).
 */
export async function planPipeline(spec: PipelineSpec, runsDir: string, opts: { force?: boolean; only?: string[]; onWarning?: (message: string) => void; remote?: ObjectStore } = {}): Promise<Plan> {
  checkSelectedStages(spec, opts.only);
  const ws = await openWorkspace(runsDir);
  try {
    const lock = await openLockIndex(spec.file, opts.onWarning, runsDir);
    const store = opts.remote ? new ReadThroughStore(ws.store, opts.remote) : ws.store;
    const plan = await planRun(spec, planDepsFor(ws, spec, stageCacheFor(ws, spec, opts.onWarning, store, { lock }), lock, opts.onWarning), opts);
    return await withForeignOrigins(plan, ws.tracker);
  } finally {
    // A read-only runs folder can be planned against; only the stat cache (a speed-up) is not saved.
    await ws.close().catch(() => {});
  }
}

/** Plans and executes one run of a loaded spec, recording everything in the tracker. */
export async function runPipeline(opts: RunPipelineOptions): Promise<RunSummary> {
  const { spec } = opts;
  checkSelectedStages(spec, opts.only);
  const started = Date.now();
  await checkWritable(opts.runsDir);
  const ws = await openWorkspace(opts.runsDir);
  let unlock: (() => Promise<void>) | undefined;
  try {
    const runId = newRunId();
    if (!opts.isolated && writesWorkspace(spec, opts.only)) unlock = await lockWorkspace(opts, ws, runId);
    await ws.tracker.markDeadRunsInterrupted();
    await recoverFromKilledRuns(ws, spec.kinds, opts.onWarning);
    const lock = await openLockIndex(spec.file, opts.onWarning, opts.runsDir);
    const commit = gitCommit(spec.dir);
    const cache = stageCacheFor(ws, spec, opts.onWarning, opts.remote ? new ReadThroughStore(ws.store, opts.remote) : ws.store, { lock, provenance: provenanceHere(spec.name, commit, started) });
    const plan = await planRun(spec, planDepsFor(ws, spec, cache, lock, opts.onWarning), { force: opts.force, only: opts.only });
    const runDir = join(opts.runsDir, runId);
    await mkdir(runDir, { recursive: true });
    const recorder = await TrackerRecorder.start(ws.tracker, {
      id: runId,
      pipeline: spec.name,
      specPath: spec.file,
      specHash: spec.specHash,
      status: 'running',
      startedAt: started,
      params: spec.params,
      gitCommit: commit,
      host: hostname(),
      pid: process.pid,
      sweepId: opts.sweepId ?? null,
      name: opts.name ?? null,
      tags: opts.tags ?? {},
    }, opts.runsDir);
    const observers = [recorder, new StageLogWriter(opts.runsDir, runId), ...opts.observers];
    const emit = (event: RunEvent) => observers.forEach((o) => o.onEvent(event));
    emit({ type: 'run-started', runId, pipeline: spec.name, plan, runDir });
    const result = await executePlan({
      spec,
      plan,
      runId,
      runsDir: opts.runsDir,
      cache,
      hasher: ws.statCache,
      models: ws.tracker,
      registerModel: (request, stage) => recorder.registerModel(request, stage),
      backend: opts.backend,
      jobs: opts.jobs,
      signal: opts.signal,
      emit,
      explain: opts.explain,
      executor: opts.executor,
      isolated: opts.isolated,
      inFlight: opts.inFlight,
      dispatcher: opts.dispatcher,
      cacheTypes: opts.cacheTypes,
      force: opts.force,
      prunedAt: opts.prunedAt,
    });
    const failed = result.stages.some((s) => s.status === 'failed');
    const status = result.interrupted ? 'interrupted' : failed ? 'failed' : 'completed';
    const durationMs = Date.now() - started;
    const backend = result.stages.map((s) => s.backend).find(Boolean) ?? null;
    const firstError = result.stages.find((s) => s.status === 'failed');
    await recorder.finish({
      status,
      endedAt: Date.now(),
      backend,
      error: firstError ? `${firstError.name}: ${firstError.error}` : null,
    });
    const late = opts.tagsAtEnd?.(result.stages) ?? {};
    if (Object.keys(late).length > 0) await ws.tracker.setRunTags(runId, late);
    emit({ type: 'run-finished', runId, status, durationMs });
    pointLatest(opts.runsDir, runId);
    const failures = result.stages.filter((s) => s.status === 'failed').length;
    const exitCode = exitCodeOf({ interrupted: result.interrupted, stagesFailed: failures - result.gatesFailed, gatesFailed: result.gatesFailed });
    const lockWrite = opts.isolated || opts.sweepId ? undefined : await writeRunLock(spec, result, { runsDir: opts.runsDir, hasher: ws.statCache, onWarning: opts.onWarning });
    const gitignore = opts.isolated ? undefined : await writeRunGitignore(spec, { runsDir: opts.runsDir, tracker: ws.tracker.location, onWarning: opts.onWarning });
    return {
      schemaVersion: 1,
      runId,
      pipeline: spec.name,
      status,
      params: spec.params,
      backend,
      durationMs,
      stages: result.stages,
      metrics: Object.fromEntries(result.stages.flatMap((s) => Object.entries(s.metrics).map(([k, v]) => [`${s.name}.${k}`, v]))),
      artifacts: result.stages.flatMap((s) =>
        Object.entries(result.extras.get(s.name)?.manifest?.outputs ?? {}).map(([name, out]) => ({
          stage: s.name,
          name,
          path: s.outputs?.[name] ?? '',
          digest: out.digest,
        })),
      ),
      exitCode,
      error: firstError ? `stage ${firstError.name} failed: ${firstError.error}` : undefined,
      ...(lockWrite ? { lock: lockWrite } : {}),
      ...(gitignore ? { gitignore } : {}),
    };
  } finally {
    await unlock?.();
    await ws.close().catch((err: unknown) => {
      opts.onWarning?.(`the stat cache could not be saved (${messageOf(err)}); the next run re-hashes its inputs`);
    });
  }
}

/**
 * Takes the workspace lock (kernel locks where flock(1) exists, a lock file otherwise). While the
 * holder's commands outlive it they are stopped; after taking over from a holder that died, its run
 * is marked interrupted (recovery then runs as after every takeover).
 */
async function lockWorkspace(opts: RunPipelineOptions, ws: Workspace, runId: string): Promise<() => Promise<void>> {
  const { spec } = opts;
  const path = await workspaceLockPath(opts.runsDir, spec.dir);
  if (!hasKernelLocks) {
    return acquireLock(path, spec.name, {
      signal: opts.signal,
      onWait: (h) => opts.onWarning?.(`waiting for another run (pid ${h.pid}, ${h.label}) that writes files in ${spec.dir}`),
    });
  }
  const lock = await acquireWorkspaceLock(path, { runId, pipeline: spec.name, pid: process.pid, host: hostname() }, {
    signal: opts.signal,
    timeoutMs: opts.lockTimeoutMs,
    onWait: (h, waitedMs) =>
      opts.onWarning?.(`waiting for ${h ? describeHolder(h) : 'another run'}, which writes files in ${spec.dir}${waitedMs > 0 ? ` (${Math.round(waitedMs / 1000)} s so far)` : ''}`),
    stopOrphans: async (h) => {
      for (const message of await stopOrphansOf(spec.kinds, opts.runsDir, h)) opts.onWarning?.(message);
    },
  });
  const previous = lock.previous;
  if (previous) {
    opts.onWarning?.(`${describeHolder(previous)} died holding the workspace lock; recovering after it`);
    await markHolderInterrupted(ws.tracker, previous);
  }
  return lock.release;
}

/**
 * The lock file of a workspace, named after its real path: the same folder reached through a symlink
 * (or `..` segments) is one workspace, and its runs take turns.
 */
export async function workspaceLockPath(runsDir: string, dir: string): Promise<string> {
  const real = await realpath(dir).catch(() => dir);
  return join(runsDir, 'locks', `${createHash('sha256').update(real).digest('hex').slice(0, 16)}.lock`);
}

/** Shell stages write their outs in place: such runs of one workspace take turns. */
function writesWorkspace(spec: PipelineSpec, only?: string[]): boolean {
  return selectedStages(spec, only).some((n) => Object.values(spec.stages[n].impl.outputs(spec.stages[n].config)).some((o) => o.location === 'workspace'));
}

