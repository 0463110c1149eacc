import { randomBytes } from 'node:crypto';
import { loadSpec } from '../spec/load-spec.js';
import type { LoadOptions, PipelineSpec } from '../spec/types.js';
import { exitCodeOf, messageOf } from '../../errors.js';
import { SpecError } from '../spec/spec-error.js';
import { ExitCode, type ExitCodeValue } from '../../exit-codes.js';
import { runWithConcurrency } from './concurrency.js';
import { planPipeline, runPipeline, type RunPipelineOptions, type RunSummary } from './run-pipeline.js';
import type { Plan } from './plan-run.js';
import type { RunEvent, RunObserver, StageSummary } from './events.js';
import { InFlightStages } from './in-flight.js';
import { AshaSearch, bestTrial, PRUNED_EPOCH, searchedStage, type SearchSettings } from './asha-search.js';
import type { SearchDirection } from './asha-rungs.js';

export interface SweepPoint {
  /** The `--set` items of this point, e.g. `params.lr=0.01`. */
  set: string[];
  runId?: string;
  status: RunSummary['status'] | 'not run';
  exitCode: number;
  metrics: Record<string, number>;
  error?: string;
  /** `--search asha`: the epoch at which the search stopped this trial's training. */
  pruned?: number;
}

/** What a model-based search (`--search asha`) did: its objective, the trials it pruned, the one it picked. */
export interface SearchSummary {
  method: 'asha';
  /** `train.val_accuracy`; null when no trial got far enough to say. */
  objective: string | null;
  direction: SearchDirection | null;
  minEpochs: number;
  reduction: number;
  pruned: number;
  /** Index in `points` of the best trial that was not pruned; null when there is none. */
  best: number | null;
}

export interface SweepSummary {
  schemaVersion: 1;
  sweepId: string;
  pipeline: string;
  points: SweepPoint[];
  failed: number;
  exitCode: ExitCodeValue;
  search?: SearchSummary;
}

export interface SweepOptions extends Omit<RunPipelineOptions, 'spec' | 'observers' | 'sweepId'> {
  file: string;
  load: LoadOptions;
  grid: string[][];
  /** Progress observers for one point (labelled by its `--set` items). */
  observersFor: (label: string) => RunObserver[];
  /** Told each point's spec and run summary as it finishes (CI reports); `index` is its place in the grid. */
  onPoint?: (point: { index: number; set: string[]; spec: PipelineSpec; summary: RunSummary }) => void;
  /** A model-based search over the points (`--search asha`), with the direction of a metric when the settings give none. */
  search?: { settings: SearchSettings; directionOf: (metric: string) => SearchDirection };
}

/**
 * Runs every grid point as its own run under one sweep id. Every point's spec is loaded first, so
 * a bad value stops the sweep before anything runs. Points are isolated: each stage runs in a
 * temporary copy of the workspace and nothing is written there (`mlpipe checkout RUN` brings a
 * point's outputs back), so up to `jobs` points really run at once. A stage all points share (e.g.
 * preprocess) runs once: the other points wait for it and restore it ({@link InFlightStages}).
 */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const specs = await loadSweepSpecs(opts.file, opts.load, opts.grid);
  const sweepId = `s-${randomBytes(4).toString('hex')}`;
  const points: SweepPoint[] = opts.grid.map((set) => ({ set, status: 'not run', exitCode: 0, metrics: {} }));
  const parallel = Math.max(1, Math.min(opts.jobs, points.length));
  const inFlight = new InFlightStages();
  const search = opts.search && attachSearch(specs, opts.grid, opts.search, opts.signal);
  const runPoint = async (i: number) => {
    const label = points[i].set.join(' ');
    try {
      const trial = search?.trial(i);
      const s = await runPipeline({ ...opts, spec: specs[i], sweepId, isolated: true, inFlight, jobs: Math.max(1, Math.floor(opts.jobs / parallel)), observers: [...(trial ? [trial.observer] : []), ...opts.observersFor(label)], tagsAtEnd: trial?.tagsAtEnd, prunedAt: trial?.prunedAt });
      const pruned = search && s.metrics[`${search.stage}.${PRUNED_EPOCH}`];
      Object.assign(points[i], { runId: s.runId, status: s.status, exitCode: s.exitCode, metrics: s.metrics, error: s.error, ...(pruned !== undefined ? { pruned } : {}) });
      opts.onPoint?.({ index: i, set: points[i].set, spec: specs[i], summary: s });
    } catch (err) {
      Object.assign(points[i], { status: 'failed', exitCode: ExitCode.StageFailed, error: messageOf(err) });
    } finally {
      search?.board.end(i);
    }
  };
  await runWithConcurrency(
    points.map((_, k) => ({ id: String(k), needs: [], run: () => (opts.signal.aborted ? Promise.resolve() : runPoint(k)) })),
    parallel,
  );
  const bad = points.filter((p) => p.exitCode !== 0);
  const gatesFailed = bad.filter((p) => p.exitCode === ExitCode.GateFailed).length;
  const exitCode = exitCodeOf({ interrupted: opts.signal.aborted, stagesFailed: bad.length - gatesFailed, gatesFailed });
  return { schemaVersion: 1, sweepId, pipeline: specs[0].name, points, failed: bad.length, exitCode, ...(search ? { search: search.summary(points) } : {}) };
}

/** One point of `run --sweep … --dry`: its `--set` items and what its run would do. */
export interface SweepPointPlan {
  set: string[];
  plan: Plan;
}

/**
 * Plans every point of a sweep without running anything (`run --sweep … --dry`). A search's
 * trials are planned with the identity they would run with, so a trial that ran before shows as
 * cached; whether the search will stop a new trial is only known once it trains.
 */
export async function planSweep(opts: Pick<SweepOptions, 'file' | 'load' | 'grid' | 'search' | 'runsDir' | 'force' | 'only' | 'onWarning' | 'remote'>): Promise<SweepPointPlan[]> {
  const specs = await loadSweepSpecs(opts.file, opts.load, opts.grid);
  if (opts.search) attachSearch(specs, opts.grid, opts.search, new AbortController().signal);
  const plans: SweepPointPlan[] = [];
  for (const [i, spec] of specs.entries()) plans.push({ set: opts.grid[i]!, plan: await planPipeline(spec, opts.runsDir, opts) });
  return plans;
}

/** Every grid point's spec, in grid order: a bad value in any point throws before anything runs (or is planned). */
export async function loadSweepSpecs(file: string, load: LoadOptions, grid: readonly string[][]): Promise<PipelineSpec[]> {
  const specs: PipelineSpec[] = [];
  for (const set of grid) {
    const loaded = await loadSpec(file, { ...load, set: [...(load.set ?? []), ...set] });
    if (!loaded.ok) throw new SpecError(loaded.diagnostics);
    specs.push(loaded.spec);
  }
  return specs;
}

/**
 * Makes the points trials of an ASHA search: each point's train stage gets the search's hook and
 * its identity (into the cache key); each run tells the search when that stage finished, skips the
 * stages below it when it was pruned (a pruned model is neither evaluated nor deployed) and is
 * tagged `pruned=EPOCH`.
 */
function attachSearch(specs: PipelineSpec[], grid: readonly string[][], search: NonNullable<SweepOptions['search']>, signal: AbortSignal) {
  const stage = searchedStage(specs[0]!, search.settings.objective);
  const board = new AshaSearch(specs.length, search.settings, search.directionOf, signal);
  specs.forEach((spec, i) => (spec.stages[stage]!.search = { identity: board.identity(i, grid), control: board.control(i) }));
  return {
    stage,
    board,
    trial: (i: number) => ({
      observer: { onEvent: (e: RunEvent) => e.type === 'stage-finished' && e.stage === stage && board.finished(i, e.summary.metrics) },
      tagsAtEnd: (stages: readonly StageSummary[]): Record<string, string> => {
        const epoch = stages.find((s) => s.name === stage)?.metrics[PRUNED_EPOCH];
        return epoch === undefined ? {} : { pruned: String(epoch) };
      },
      prunedAt: (s: StageSummary) => (s.name === stage && s.status === 'completed' ? s.metrics[PRUNED_EPOCH] : undefined),
    }),
    summary: (points: readonly SweepPoint[]): SearchSummary => {
      const resolved = board.resolved;
      const objective = resolved ? `${stage}.${resolved.objective}` : null;
      const best = resolved ? bestTrial(points, objective!, resolved.direction) : undefined;
      return { method: 'asha', objective, direction: resolved?.direction ?? null, minEpochs: search.settings.minEpochs, reduction: search.settings.reduction, pruned: points.filter((p) => p.pruned !== undefined).length, best: best ?? null };
    },
  };
}
