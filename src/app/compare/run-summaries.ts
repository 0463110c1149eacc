import type { ArtifactRecord, MetricPoint, RunFilter, RunRecord, RunStatus, StageRunRecord, Tracker } from '../../core/tracker/types.js';
import { resolveRunRef, shortIds } from './resolve-run.js';
import { CONFUSION } from './build-comparison.js';
import { metricKeyOf, metricStageOf } from '../../core/tracker/metric-name.js';

/** One line of `mlpipe runs list --json`. */
export interface RunListItem {
  id: string;
  shortId: string;
  /** `run --name`, when given. */
  name: string | null;
  tags: Record<string, string>;
  /** `runs note`. */
  note: string | null;
  /** When `runs delete` deleted it (listed with `--deleted`); null when it is not deleted. */
  deletedAt: number | null;
  pipeline: string;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  sweepId: string | null;
  gitCommit: string | null;
  /** The params as recorded (nested). */
  params: Record<string, unknown>;
  /** Stages that executed in this run. */
  ran: number;
  /** Stages restored from the cache. */
  cached: number;
  failed: number;
  /** Final metrics, `stage.key`. */
  metrics: Record<string, number>;
  /** Up to three final metrics worth a glance (an evaluation stage's, else the last stage's), by bare key. */
  headline: Record<string, number>;
}

/** `mlpipe runs show --json`. */
export interface RunDetails {
  schemaVersion: 1;
  run: RunRecord & { shortId: string; durationMs: number | null };
  stages: (Omit<StageRunRecord, 'keyMaterial' | 'runId'>)[];
  /** Final metrics, `stage.key`. */
  metrics: Record<string, number>;
  /** Per-step metrics: how many points each has and the last value. */
  curves: Record<string, { points: number; last: number }>;
  artifacts: Omit<ArtifactRecord, 'runId'>[];
}

const HEADLINE = 3;

/**
 * Runs newest first (or in `filter.orderBy`'s order), with stage counts, params and final metrics.
 * `filter.where` is the run-search language, run by the tracker as SQL.
 */
export async function listRunSummaries(tracker: Tracker, filter: RunFilter = {}): Promise<RunListItem[]> {
  const runs = await tracker.listRuns(filter);
  const short = shortIds(
    runs.map((r) => r.id),
    await tracker.findRunIds(''),
  );
  const finals = await tracker.getFinalMetrics(runs.map((r) => r.id));
  return Promise.all(runs.map(async (run) => {
    const stages = await tracker.getStageRuns(run.id);
    const metrics = Object.fromEntries(Object.entries(finals.get(run.id) ?? {}).filter(([k]) => !CONFUSION.test(metricKeyOf(k))));
    return {
      id: run.id,
      shortId: short.get(run.id)!,
      name: run.name ?? null,
      tags: run.tags ?? {},
      note: run.note ?? null,
      deletedAt: run.deletedAt ?? null,
      pipeline: run.pipeline,
      status: run.status,
      startedAt: run.startedAt,
      endedAt: run.endedAt ?? null,
      durationMs: run.endedAt ? run.endedAt - run.startedAt : null,
      sweepId: run.sweepId ?? null,
      gitCommit: run.gitCommit ?? null,
      params: run.params ?? {},
      ran: stages.filter((s) => !s.cachedFrom && s.status !== 'skipped' && s.status !== 'pending').length,
      cached: stages.filter((s) => s.cachedFrom).length,
      failed: stages.filter((s) => s.status === 'failed').length,
      metrics,
      headline: headlineMetrics(metrics, stages.map((s) => s.stage)),
    };
  }));
}

/** Everything recorded about one run (a full id, a unique prefix or MODEL@ALIAS). */
export async function runDetails(tracker: Tracker, ref: string): Promise<RunDetails> {
  const id = await resolveRunRef(tracker, ref);
  const run = (await tracker.getRun(id))!;
  const points = await tracker.getMetrics(id);
  const curves: RunDetails['curves'] = {};
  for (const p of points) {
    if (p.step === null) continue;
    const name = `${p.stage}.${p.key}`;
    curves[name] = { points: (curves[name]?.points ?? 0) + 1, last: p.value };
  }
  const short = shortIds([id], await tracker.findRunIds('')).get(id)!;
  return {
    schemaVersion: 1,
    run: { ...run, shortId: short, durationMs: run.endedAt ? run.endedAt - run.startedAt : null },
    stages: (await tracker.getStageRuns(id)).map(({ keyMaterial: _k, runId: _r, ...s }) => s),
    metrics: finalMetrics(points),
    curves,
    artifacts: (await tracker.getArtifacts(id)).map(({ runId: _r, ...a }) => a),
  };
}

function finalMetrics(points: readonly MetricPoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) if (p.step === null && !CONFUSION.test(p.key)) out[`${p.stage}.${p.key}`] = p.value;
  return out;
}

function headlineMetrics(metrics: Record<string, number>, stageOrder: string[]): Record<string, number> {
  const stages = [...new Set(Object.keys(metrics).map(metricStageOf))];
  const evals = stages.filter((s) => /^eval/i.test(s));
  const ordered = stageOrder.filter((s) => stages.includes(s));
  const pick = evals[evals.length - 1] ?? ordered[ordered.length - 1] ?? stages[stages.length - 1];
  if (pick === undefined) return {};
  return Object.fromEntries(
    Object.entries(metrics)
      .filter(([n]) => n.startsWith(`${pick}.`))
      .slice(0, HEADLINE)
      .map(([n, v]) => [n.slice(pick.length + 1), v]),
  );
}
