import { flattenParams } from '../../app/compare/build-comparison.js';
import { shortIds } from '../../app/compare/resolve-run.js';
import { runFailure } from '../../app/compare/run-failure.js';
import { isConfusionKey } from '../../core/tracker/confusion-cells.js';
import { metricKeyOf } from '../../core/tracker/metric-name.js';
import type { MetricPoint, RunFields, RunFilter, RunRecord, StageRunRecord, Tracker } from '../../core/tracker/types.js';
import type { RunRow } from './api-types.js';

/** A run row without its short id (that depends on every other id). */
type CachedRow = Omit<RunRow, 'shortId'>;

const FIELDS_TTL_MS = 2000;
const FIELDS_MAX_AGE_MS = 30_000;
const RECENT_TAGS = 25;

/** A page of the runs table and how many runs match. */
export interface RunPage {
  rows: RunRow[];
  /** Runs matching the query. */
  total: number;
}

/**
 * The runs table's rows, read through the Tracker interface only: the tracker filters, orders and
 * pages in SQL, and this builds the rows of one page (final metrics in one query, stage records
 * only for runs that did not complete). A finished run's row never changes, so it is built once and
 * kept (keyed by status and end time).
 */
export class RunRowSource {
  private readonly cache = new Map<string, { key: string; row: CachedRow }>();
  private ids: { count: number; short: Map<string, string> } | undefined;
  private fields: { key: string; at: number; value: RunFields } | undefined;

  constructor(private readonly tracker: Tracker) {}

  /** One page of the runs matching `query` (run-search `where`, `search`, `orderBy`, `limit`, `offset`). */
  async page(query: RunFilter): Promise<RunPage> {
    const runs = await this.tracker.listRuns(query);
    const whole = query.limit === undefined || (!query.offset && runs.length < query.limit);
    const total = whole ? (query.offset ?? 0) + runs.length : await this.tracker.countRuns(query);
    return { rows: await this.rowsOf(runs), total };
  }

  /** The rows of these runs, in this order. */
  async rowsOf(runs: readonly RunRecord[]): Promise<RunRow[]> {
    const stale = runs.filter((run) => {
      const hit = this.cache.get(run.id);
      return !hit || hit.key !== rowKey(run) || run.status === 'running';
    });
    if (stale.length) {
      const finals = await this.tracker.getFinalMetrics(stale.map((r) => r.id));
      for (const run of stale) {
        const stages = run.status === 'failed' || run.status === 'interrupted' ? await this.tracker.getStageRuns(run.id) : [];
        this.cache.set(run.id, { key: rowKey(run), row: buildRow(run, stages, finals.get(run.id) ?? {}) });
      }
    }
    const short = await this.shortIds();
    return runs.map((r) => ({ ...this.cache.get(r.id)!.row, shortId: short.get(r.id) ?? r.id }));
  }

  /** How many runs the tracker holds (deleted ones left out). */
  count(): Promise<number> {
    return this.tracker.countRuns({});
  }

  /** How many deleted runs the tracker holds. */
  deletedCount(): Promise<number> {
    return this.tracker.countRuns({ deleted: 'only' });
  }

  /**
   * Param, metric and tag names for the column chooser. Reading them scans every metric row, so
   * they are kept until the runs change: a run added or removed, one ending, the tags of the newest
   * runs changing, every {@link FIELDS_TTL_MS} while runs are going, and at least every
   * {@link FIELDS_MAX_AGE_MS}.
   */
  async columns(total: number): Promise<RunFields> {
    const [running, [ended], recent] = await Promise.all([
      this.tracker.countRuns({ status: 'running' }),
      this.tracker.listRuns({ orderBy: 'ended_at desc', limit: 1 }),
      this.tracker.listRuns({ limit: RECENT_TAGS }),
    ]);
    const key = `${total}:${running}:${ended?.id ?? ''}:${ended?.endedAt ?? ''}:${recent.map((r) => Object.keys(r.tags ?? {}).join(',')).join('|')}`;
    const age = this.fields ? Date.now() - this.fields.at : Infinity;
    if (this.fields?.key !== key || (running > 0 && age > FIELDS_TTL_MS) || age > FIELDS_MAX_AGE_MS) {
      const fields = await this.tracker.runFields();
      this.fields = { key, at: Date.now(), value: { ...fields, metrics: fields.metrics.filter((m) => !isConfusionKey(metricKeyOf(m))) } };
    }
    return this.fields.value;
  }

  private async shortIds(): Promise<Map<string, string>> {
    const count = await this.tracker.countRuns({ deleted: 'include' });
    if (this.ids?.count !== count) this.ids = { count, short: shortIds(await this.tracker.findRunIds('')) };
    return this.ids.short;
  }
}

const rowKey = (run: RunRecord): string => JSON.stringify([run.status, run.endedAt, run.name, run.tags, run.note, run.deletedAt]);

/** Final values (`stage.key` → value, the last one logged) among metric points. */
export function finalValues(points: readonly MetricPoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) if (p.step === null) out[`${p.stage}.${p.key}`] = p.value;
  return out;
}

/** One run's row from its records and final metrics (`stage.key` → value). */
export function buildRow(run: RunRecord, stages: readonly StageRunRecord[], finals: Record<string, number>): CachedRow {
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(finals)) if (!isConfusionKey(metricKeyOf(name))) metrics[name] = value;
  return {
    id: run.id,
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
    backend: run.backend ?? null,
    params: flattenParams(run.params ?? {}),
    metrics,
    failure: runFailure(run, stages),
  };
}
