import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import type { BackendChoice } from '../../stages/types.js';
import { ExitCode, type ExitCodeValue } from '../../exit-codes.js';
import { UserError } from '../../errors.js';
import { gitCommit } from '../git-commit.js';
import { openWorkspace, planDepsFor, type Workspace } from '../workspace.js';
import { LocalObjectStore } from '../store/local-store.js';
import { isProcessAlive } from '../tracker/sqlite-tracker.js';
import { stopOrphanedCommands } from '../../stages/shell.js';
import { kindOf, planRun, selectStages, type Plan } from './plan-run.js';
import { acquireLock } from '../workspace-lock.js';
import { executePlan } from './execute-plan.js';
import type { RunEvent, RunObserver, StageSummary } from './events.js';
import { TrackerRecorder } from './tracker-recorder.js';

export interface RunPipelineOptions {
  spec: PipelineSpec;
  runsDir: string;
  force?: boolean;
  /** `--stage`: these stages and what they need. */
  only?: string[];
  jobs: number;
  backend: BackendChoice;
  observers: RunObserver[];
  signal: AbortSignal;
  sweepId?: string;
  onWarning?: (message: string) => void;
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
}

export function newRunId(): string {
  return `r-${randomBytes(6).toString('hex')}`;
}

/** Checks `--stage` names before anything is written. */
export function checkSelectedStages(spec: PipelineSpec, only?: string[]): void {
  const unknown = (only ?? []).filter((s) => !spec.stages[s]);
  if (unknown.length > 0) {
    throw new UserError(`unknown stage ${unknown.join(', ')} in --stage; stages of ${spec.name}: ${spec.order.join(', ')}`);
  }
}

/** Plans without executing (`mlpipe status`, `run --dry`). */
export async function planPipeline(spec: PipelineSpec, runsDir: string, opts: { force?: boolean; only?: string[] } = {}): Promise<Plan> {
  checkSelectedStages(spec, opts.only);
  const ws = await openWorkspace(runsDir);
  try {
    return await planRun(spec, planDepsFor(ws, spec), opts);
  } finally {
    await ws.close();
  }
}

/** Plans and executes one run of a loaded spec, recording everything in the tracker. */
export async function runPipeline(opts: RunPipelineOptions): Promise<RunSummary> {
  const { spec } = opts;
  checkSelectedStages(spec, opts.only);
  const started = Date.now();
  await checkWritable(opts.runsDir);
  const ws = await openWorkspace(opts.runsDir, opts.onWarning);
  let unlock: (() => Promise<void>) | undefined;
  try {
    ws.tracker.markDeadRunsInterrupted();
    await recoverFromKilledRuns(ws, opts.onWarning);
    if (writesWorkspace(spec, opts.only)) {
      unlock = await acquireLock(join(opts.runsDir, 'locks', `${createHash('sha256').update(spec.dir).digest('hex').slice(0, 16)}.lock`), spec.name, {
        signal: opts.signal,
        onWait: (h) => opts.onWarning?.(`waiting for another run (pid ${h.pid}, ${h.label}) that writes files in ${spec.dir}`),
      });
    }
    const deps = planDepsFor(ws, spec);
    const plan = await planRun(spec, deps, { force: opts.force, only: opts.only });
    const runId = newRunId();
    const runDir = join(opts.runsDir, runId);
    await mkdir(runDir, { recursive: true });
    ws.tracker.createRun({
      id: runId,
      pipeline: spec.name,
      specPath: spec.file,
      specHash: spec.specHash,
      status: 'running',
      startedAt: started,
      params: spec.params,
      gitCommit: gitCommit(spec.dir),
      host: hostname(),
      pid: process.pid,
      sweepId: opts.sweepId ?? null,
    });
    const recorder = new TrackerRecorder(ws.tracker, runId);
    const observers = [recorder, ...opts.observers];
    const emit = (event: RunEvent) => observers.forEach((o) => o.onEvent(event));
    emit({ type: 'run-started', runId, pipeline: spec.name, plan, runDir });
    const result = await executePlan({
      spec,
      plan,
      runId,
      runsDir: opts.runsDir,
      store: ws.store,
      statCache: ws.statCache,
      deps,
      registry: ws.tracker,
      backend: opts.backend,
      force: opts.force,
      jobs: opts.jobs,
      signal: opts.signal,
      emit,
      onWarning: opts.onWarning,
    });
    recorder.close();
    const failed = result.stages.some((s) => s.status === 'failed');
    const status = result.interrupted ? 'interrupted' : failed ? 'failed' : 'completed';
    const durationMs = Date.now() - started;
    const backend = result.stages.map((s) => s.backend).find(Boolean) ?? null;
    const firstError = result.stages.find((s) => s.status === 'failed');
    ws.tracker.updateRun(runId, {
      status,
      endedAt: Date.now(),
      backend,
      error: firstError ? `${firstError.name}: ${firstError.error}` : null,
    });
    emit({ type: 'run-finished', runId, status, durationMs });
    await pointLatest(opts.runsDir, runId);
    const exitCode = result.interrupted
      ? ExitCode.Interrupted
      : result.gateFailure
        ? ExitCode.GateFailed
        : failed
          ? ExitCode.StageFailed
          : ExitCode.Success;
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
    };
  } finally {
    await unlock?.();
    await ws.close().catch((err: unknown) => {
      opts.onWarning?.(`the stat cache could not be saved (${err instanceof Error ? err.message : String(err)}); the next run re-hashes its inputs`);
      ws.tracker.close();
    });
  }
}

const WRITE_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a path component is a file, not a folder',
};

/**
 * Refuses to start (exit 2, nothing run) when the runs folder or one of its parts cannot be
 * written: a real file is created and removed in each, since permission bits say nothing for root
 * or on read-only mounts.
 */
async function checkWritable(runsDir: string): Promise<void> {
  const folders = [runsDir, join(runsDir, 'cache'), join(runsDir, 'cache', 'tmp'), join(runsDir, 'cache', 'objects'), join(runsDir, 'cache', 'manifests'), join(runsDir, 'tmp')];
  for (const [i, folder] of folders.entries()) {
    const probe = join(folder, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      if (i === 0) await mkdir(folder, { recursive: true });
      else if (!existsSync(folder)) continue;
      await writeFile(probe, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new UserError(`cannot write to ${folder === runsDir ? 'the runs folder ' : ''}${folder}: ${WRITE_PROBLEMS[code] ?? (err as Error).message} (${code})`, {
        hint: 'make it writable, or keep runs elsewhere with --runs-dir DIR or MLPIPE_RUNS_DIR; nothing was run',
        cause: err,
      });
    } finally {
      await rm(probe, { force: true }).catch(() => {});
    }
  }
}

/**
 * Clears up after runs whose process was killed: stops shell commands they left running (they would
 * go on writing outs), and deletes their temp folders and half-written cache files. Never touches
 * what a live run is writing.
 */
async function recoverFromKilledRuns(ws: Workspace, warn: ((message: string) => void) | undefined): Promise<void> {
  for (const c of await stopOrphanedCommands(ws.runsDir, { isAlive: isProcessAlive })) {
    warn?.(`stopped the command of stage ${c.stage} that killed run ${c.runId} left running (process group ${c.pgid})`);
  }
  if (ws.store instanceof LocalObjectStore) await ws.store.removeStaleTemps(isProcessAlive);
  const tmp = join(ws.runsDir, 'tmp');
  const finished = (runId: string) => {
    const run = ws.tracker.getRun(runId);
    return run !== undefined && run.status !== 'running';
  };
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const runId = /^(r-[0-9a-f]+)-/.exec(name)?.[1];
    if (runId && finished(runId)) await rm(join(tmp, name), { recursive: true, force: true });
  }
  for (const name of await readdir(ws.runsDir).catch(() => [] as string[])) {
    const runId = /^\.latest-(r-[0-9a-f]+)$/.exec(name)?.[1];
    if (runId && finished(runId)) await rm(join(ws.runsDir, name), { force: true });
  }
}

/** Shell stages write their outs in place: such runs of one workspace take turns. */
function writesWorkspace(spec: PipelineSpec, only?: string[]): boolean {
  return selectStages(spec, only).some((n) => Object.values(kindOf(spec.stages[n]).outputs(spec.stages[n].config)).some((o) => o.location === 'workspace'));
}

/** `runs/latest` → the newest run folder (replaced atomically). */
async function pointLatest(runsDir: string, runId: string): Promise<void> {
  const tmp = join(runsDir, `.latest-${runId}`);
  try {
    await rm(tmp, { force: true });
    await symlink(runId, tmp);
    await rename(tmp, join(runsDir, 'latest'));
  } catch {
    await rm(tmp, { force: true });
  }
}
