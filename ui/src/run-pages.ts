import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, getJson, type RunRow, type RunsResponse } from './api.js';

/** Rows fetched per request. */
export const PAGE = 100;

/** What the runs table asks the server: the filter, the search text and the order. */
export interface RunsQuery {
  filter: string;
  search: string;
  sort: string;
  dir: 'asc' | 'desc';
  /** List deleted runs too. */
  deleted: boolean;
}

/** The runs table's data: rows by index (fetched page by page as they come into view). */
export interface RunPages {
  /** The row at an index, or undefined while its page is on its way. */
  row(index: number): RunRow | undefined;
  /** Runs matching the query (undefined until the query's first answer). */
  matching: number | undefined;
  /** Rows to lay out: the latest known number of matching runs. */
  count: number;
  total: number | undefined;
  /** Deleted runs the tracker holds besides `total`. */
  deleted: number;
  columns: RunsResponse['columns'];
  error: ApiFailure | undefined;
}

const NO_COLUMNS: RunsResponse['columns'] = { params: [], metrics: [], tags: [] };

/**
 * Pages of `/api/runs` for the rows in view [start, end): the server filters, orders and pages in
 * the tracker's SQL, so 10,000 runs cost what the rows on screen cost. A new query or a live
 * change refetches the pages in view; the rows already shown stay until their new page arrives.
 */
export function useRunPages(query: RunsQuery, live: number, start: number, end: number): RunPages {
  const key = JSON.stringify(query);
  const generation = `${key}|${live}`;
  const pages = useRef(new Map<number, RunRow[]>());
  const shown = useRef(new Map<number, RunRow[]>());
  const pending = useRef(new Set<number>());
  const current = useRef(generation);
  const [state, setState] = useState<{ matching?: number; total?: number; deleted?: number; columns: RunsResponse['columns']; error?: ApiFailure; key?: string }>({ columns: NO_COLUMNS });
  const [, redraw] = useState(0);

  if (current.current !== generation) {
    const sameQuery = current.current.startsWith(`${key}|`);
    // A live change keeps the rows on screen until their refetch lands; a new query starts empty.
    shown.current = sameQuery ? new Map([...shown.current, ...pages.current]) : new Map();
    pages.current = new Map();
    pending.current = new Set();
    current.current = generation;
  }

  const first = Math.floor(start / PAGE);
  const last = Math.max(first, Math.floor(Math.max(0, end - 1) / PAGE));
  useEffect(() => {
    for (let p = first; p <= last; p++) {
      if (pages.current.has(p) || pending.current.has(p)) continue;
      if (state.matching !== undefined && state.key === key && p * PAGE >= state.matching && p > 0) continue;
      pending.current.add(p);
      const gen = generation;
      getJson<RunsResponse>('/api/runs', { filter: query.filter, search: query.search, sort: query.sort, dir: query.dir, offset: String(p * PAGE), limit: String(PAGE), deleted: query.deleted ? 'include' : undefined }).then(
        (res) => {
          if (current.current !== gen) return;
          pending.current.delete(p);
          pages.current.set(p, res.runs);
          shown.current.delete(p);
          if (p === 0 || state.key !== key) shown.current = new Map([...shown.current].filter(([i]) => i * PAGE < res.matching));
          setState({ matching: res.matching, total: res.total, deleted: res.deleted, columns: res.columns, key });
          redraw((n) => n + 1);
        },
        (err: unknown) => {
          if (current.current !== gen) return;
          pending.current.delete(p);
          setState((s) => ({ ...s, error: err instanceof ApiFailure ? err : new ApiFailure(0, String((err as Error)?.message ?? err)) }));
        },
      );
    }
  }, [generation, first, last, state.matching]);

  const stale = state.key !== key;
  return {
    row: (i) => (pages.current.get(Math.floor(i / PAGE)) ?? shown.current.get(Math.floor(i / PAGE)))?.[i % PAGE],
    matching: stale ? undefined : state.matching,
    count: state.matching ?? 0,
    total: state.total,
    deleted: state.deleted ?? 0,
    columns: state.columns,
    error: state.key === key || state.error ? state.error : undefined,
  };
}
