import { randomBytes } from 'node:crypto';
import { loadSpec } from '../spec/load-spec.js';
import type { LoadOptions, PipelineSpec } from '../spec/types.js';
import { exitCodeOf, messageOf } from '../../errors.js';
import { SpecError } from '../spec/spec-error.js';
import { ExitCode, type ExitCodeValue } from '../../exit-codes.js';
import { runWithConcurrency } from './concurrency.js';
import { runPipeline, type RunPipelineOptions, type RunSummary } from './run-pipeline.js';
import type { RunObserver } from './events.js';
import { InFlightStages } from './in-flight.js';

export interface SweepPoint {
  /** The `--set` items of this point, e.g. `params.lr=0.01`. */
  set: string[];
  runId?: string;
  status: RunSummary['status'] | 'not run';
  exitCode: number;
  metrics: Record<string, number>;
  error?: string;
}

export interface SweepSummary {
  schemaVersion: 1;
  sweepId: string;
  pipeline: string;
  points: SweepPoint[];
  failed: number;
  exitCode: ExitCodeValue;
}

export interface SweepOptions extends Omit<RunPipelineOptions, 'spec' | 'observers' | 'sweepId'> {
  file: string;
  load: LoadOptions;
  grid: string[][];
  /** Progress observers for one point (labelled by its `--set` items). */
  observersFor: (label: string) => RunObserver[];
  /** Told each point's spec and run summary as it finishes (CI reports); `index` is its place in the grid. */
  onPoint?: (point: { index: number; set: string[]; spec: PipelineSpec; summary: RunSummary }) => void;
}

/**
 * Runs every grid point as its own run under one sweep id. Every point's spec is loaded first, so
 * a bad value stops the sweep before anything runs. Points are isolated: each stage runs in a
 * temporary copy of the workspace and nothing is written there (`mlpipe checkout RUN` brings a
 * point's outputs back), so up to `jobs` points really run at once. A stage all points share (e.g.
 * preprocess) runs once: the other points wait for it and restore it ({@link InFlightStages}).
 */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const specs: PipelineSpec[] = [];
  for (const set of opts.grid) {
    const loaded = await loadSpec(opts.file, { ...opts.load, set: [...(opts.load.set ?? []), ...set] });
    if (!loaded.ok) throw new SpecError(loaded.diagnostics);
    specs.push(loaded.spec);
  }
  const sweepId = `s-${randomBytes(4).toString('hex')}`;
  const points: SweepPoint[] = opts.grid.map((set) => ({ set, status: 'not run', exitCode: 0, metrics: {} }));
  const parallel = Math.max(1, Math.min(opts.jobs, points.length));
  const inFlight = new InFlightStages();
  const runPoint = async (i: number) => {
    const label = points[i].set.join(' ');
    try {
      const s = await runPipeline({ ...opts, spec: specs[i], sweepId, isolated: true, inFlight, jobs: Math.max(1, Math.floor(opts.jobs / parallel)), observers: opts.observersFor(label) });
      Object.assign(points[i], { runId: s.runId, status: s.status, exitCode: s.exitCode, metrics: s.metrics, error: s.error });
      opts.onPoint?.({ index: i, set: points[i].set, spec: specs[i], summary: s });
    } catch (err) {
      Object.assign(points[i], { status: 'failed', exitCode: ExitCode.StageFailed, error: messageOf(err) });
    }
  };
  await runWithConcurrency(
    points.map((_, k) => ({ id: String(k), needs: [], run: () => (opts.signal.aborted ? Promise.resolve() : runPoint(k)) })),
    parallel,
  );
  const bad = points.filter((p) => p.exitCode !== 0);
  const gatesFailed = bad.filter((p) => p.exitCode === ExitCode.GateFailed).length;
  const exitCode = exitCodeOf({ interrupted: opts.signal.aborted, stagesFailed: bad.length - gatesFailed, gatesFailed });
  return { schemaVersion: 1, sweepId, pipeline: specs[0].name, points, failed: bad.length, exitCode };
}
