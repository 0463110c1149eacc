import { splitMetricName } from '../../core/tracker/metric-name.js';
import { quoteSegments } from '../../core/tracker/run-filter.js';
import type { RunFilter } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';

/** `GET /api/runs` query parameters. */
export interface RunsQueryString {
  filter?: string;
  search?: string;
  /** A column key of the runs table: `started`, `params.lr`, `metrics.evaluate.accuracy`, … */
  sort?: string;
  dir?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
  /** Deleted runs: left out (default), listed too, or listed alone. */
  deleted?: 'exclude' | 'include' | 'only';
}

export const DEFAULT_PAGE = 200;
export const MAX_PAGE = 1000;

/** The runs table's fixed columns → fields of the run-search language. */
const FIXED_SORT: Record<string, string> = {
  run: 'id',
  name: 'name',
  note: 'note',
  status: 'status',
  pipeline: 'pipeline',
  started: 'started_at',
  duration: 'duration_ms',
  reason: 'error',
  sweep: 'sweep',
  commit: 'commit',
};

/** A runs-table column key as an ordering of the run-search language. */
export function sortField(column: string): string {
  if (Object.hasOwn(FIXED_SORT, column)) return FIXED_SORT[column]!;
  if (column.startsWith('params.') && column.length > 7) return quoteSegments(['params', ...column.slice(7).split('.')]);
  const metric = column.startsWith('metrics.') ? splitMetricName(column.slice(8)) : undefined;
  if (metric) return quoteSegments(['metrics', metric.stage, metric.key]);
  if (column.startsWith('tags.') && column.length > 5) return quoteSegments(['tags', column.slice(5)]);
  throw new UserError(`cannot sort by "${column}"`, { hint: `sort by ${Object.keys(FIXED_SORT).join(', ')}, params.NAME, metrics.STAGE.KEY or tags.KEY` });
}

/** The tracker query of one page of the runs table. */
export function runsQuery(q: RunsQueryString): RunFilter {
  const dir = q.dir ?? 'desc';
  return {
    where: q.filter?.trim() || undefined,
    search: q.search?.trim() || undefined,
    orderBy: q.sort ? `${sortField(q.sort)} ${dir}` : undefined,
    offset: q.offset ?? 0,
    limit: q.limit ?? DEFAULT_PAGE,
    deleted: q.deleted ?? 'exclude',
  };
}
