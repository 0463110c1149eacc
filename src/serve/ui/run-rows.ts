import { flattenParams } from '../../app/compare/build-comparison.js';
import { shortIds } from '../../app/compare/resolve-run.js';
import { runFailure } from '../../app/compare/run-failure.js';
import { isConfusionKey } from '../../core/tracker/confusion-cells.js';
import type { MetricPoint, RunRecord, StageRunRecord, Tracker } from '../../core/tracker/types.js';
import type { RunRow } from './api-types.js';

/** A run row without its short id (that depends on every other id). */
type CachedRow = Omit<RunRow, 'shortId'>;

/**
 * The runs table's rows, read through the Tracker interface only. A finished run's row never
 * changes, so it is built once and kept (keyed by status and end time); a refresh then reads only
 * the run list and the runs still going.
 */
export class RunRowSource {
  private readonly cache = new Map<string, { key: string; row: CachedRow }>();

  constructor(private readonly tracker: Tracker) {}

  /** Every run, newest first. */
  async rows(): Promise<RunRow[]> {
    const runs = await this.tracker.listRuns({});
    const live = new Set<string>();
    const rows: CachedRow[] = [];
    for (const run of runs) {
      live.add(run.id);
      const key = `${run.status}:${run.endedAt ?? ''}`;
      const hit = this.cache.get(run.id);
      if (hit && hit.key === key && run.status !== 'running') {
        rows.push(hit.row);
        continue;
      }
      const row = buildRow(run, await this.tracker.getStageRuns(run.id), await this.tracker.getMetrics(run.id));
      this.cache.set(run.id, { key, row });
      rows.push(row);
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    const short = shortIds(runs.map((r) => r.id));
    return rows.map((r) => ({ ...r, shortId: short.get(r.id)! }));
  }
}

/** One run's row from its records. */
export function buildRow(run: RunRecord, stages: readonly StageRunRecord[], points: readonly MetricPoint[]): CachedRow {
  const metrics: Record<string, number> = {};
  for (const p of points) if (p.step === null && !isConfusionKey(p.key)) metrics[`${p.stage}.${p.key}`] = p.value;
  const extra = run as RunRecord & { name?: unknown; tags?: unknown };
  return {
    id: run.id,
    name: typeof extra.name === 'string' ? extra.name : null,
    tags: isStringRecord(extra.tags) ? extra.tags : {},
    pipeline: run.pipeline,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt ?? null,
    durationMs: run.endedAt ? run.endedAt - run.startedAt : null,
    sweepId: run.sweepId ?? null,
    gitCommit: run.gitCommit ?? null,
    backend: run.backend ?? null,
    params: flattenParams(run.params ?? {}),
    metrics,
    failure: runFailure(run, stages),
  };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Every param and metric name among the rows, sorted. */
export function columnsOf(rows: readonly RunRow[]): { params: string[]; metrics: string[] } {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.params)) params.add(k);
    for (const k of Object.keys(r.metrics)) metrics.add(k);
  }
  return { params: [...params].sort(), metrics: [...metrics].sort() };
}
