import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RunRow } from './api.js';
import { allColumns, defaultColumns, type Column } from './columns.js';
import { useLiveVersion } from './live.js';
import { compareHref, runHref } from './router.js';
import { useRunPages } from './run-pages.js';
import { useVisibleRows } from './virtual-rows.js';

const ROW_HEIGHT = 30;
const STORE_KEY = 'mlpipe.ui.columns';

function storedColumns(): string[] | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null');
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The runs table: chosen columns; sort, the filter language and search, all run by the server as
 * SQL over the tracker; rows fetched page by page as they scroll into view; selection for compare.
 */
export function RunsPage() {
  const live = useLiveVersion();
  const [filter, setFilter] = useState('');
  const [draft, setDraft] = useState('');
  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: 'asc' | 'desc' }>({ key: 'started', dir: 'desc' });
  const [chosen, setChosen] = useState<string[] | undefined>(storedColumns);
  const [selected, setSelected] = useState<string[]>([]);
  const [showDeleted, setShowDeleted] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setSearch(searchDraft.trim()), 200);
    return () => clearTimeout(t);
  }, [searchDraft]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const [count, setCount] = useState(0);
  const visibleRows = useVisibleRows(count, ROW_HEIGHT, scrollRef);
  const query = useMemo(() => ({ filter, search, sort: sort.key, dir: sort.dir, deleted: showDeleted }), [filter, search, sort, showDeleted]);
  const data = useRunPages(query, live, visibleRows.start, Math.max(visibleRows.end, visibleRows.start + 1));
  useEffect(() => setCount(data.count), [data.count]);
  useEffect(() => {
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
  }, [query]);

  const columns = useMemo(() => allColumns(data.columns), [data.columns]);
  const visibleKeys = chosen ?? defaultColumns(data.columns);
  const visible = visibleKeys.map((k) => columns.find((c) => c.key === k)).filter((c): c is Column => c !== undefined);
  const indexes = Array.from({ length: Math.max(0, visibleRows.end - visibleRows.start) }, (_, i) => visibleRows.start + i);
  const grid = `34px ${visible.map((c) => `${c.width}px`).join(' ')}`;
  const width = 34 + visible.reduce((n, c) => n + c.width, 0);

  const choose = (keys: string[]) => {
    setChosen(keys);
    localStorage.setItem(STORE_KEY, JSON.stringify(keys));
  };
  const toggleColumn = (key: string) => choose(visibleKeys.includes(key) ? visibleKeys.filter((k) => k !== key) : [...visibleKeys, key]);
  const toggleSort = (key: string) => {
    if (columns.find((c) => c.key === key)?.sortable === false) return;
    setSort((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: columns.find((c) => c.key === key)?.numeric ? 'desc' : 'asc' }));
  };
  const toggleRow = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  return (
    <section class="runs-page">
      <div class="toolbar">
        <form
          class="filter"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter(draft.trim());
          }}
        >
          <input
            data-testid="filter"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            placeholder="filter, e.g. params.lr < 0.01 and metrics.evaluate.accuracy >= 0.9"
            spellcheck={false}
          />
          <button type="submit">Filter</button>
          {filter && (
            <button
              type="button"
              onClick={() => {
                setDraft('');
                setFilter('');
              }}
            >
              Clear
            </button>
          )}
        </form>
        <input data-testid="search" class="search" type="search" value={searchDraft} onInput={(e) => setSearchDraft(e.currentTarget.value)} placeholder="search id, name, pipeline, tags, note, error…" />
        <details class="column-chooser">
          <summary data-testid="columns-button">Columns</summary>
          <div class="menu">
            {(['fixed', 'params', 'metrics', 'tags'] as const).map((group) => (
              <fieldset key={group}>
                <legend>{group === 'fixed' ? 'run' : group}</legend>
                {columns
                  .filter((c) => (group === 'fixed' ? !c.key.includes('.') : c.key.startsWith(`${group}.`)))
                  .map((c) => (
                    <label key={c.key}>
                      <input type="checkbox" data-column={c.key} checked={visibleKeys.includes(c.key)} onChange={() => toggleColumn(c.key)} /> {c.label}
                    </label>
                  ))}
              </fieldset>
            ))}
          </div>
        </details>
        {(data.deleted > 0 || showDeleted) && (
          <label class="inline" title="deleted runs (mlpipe runs delete) are left out unless shown">
            <input type="checkbox" data-testid="show-deleted" checked={showDeleted} onChange={(e) => setShowDeleted(e.currentTarget.checked)} /> show {data.deleted} deleted
          </label>
        )}
        <span class="count" data-testid="run-count">
          {data.matching !== undefined ? `${data.matching} of ${showDeleted ? (data.total ?? 0) + data.deleted : data.total} runs` : ''}
        </span>
        <a
          class={`button primary${selected.length < 2 ? ' disabled' : ''}`}
          data-testid="compare-selected"
          aria-disabled={selected.length < 2}
          href={selected.length >= 2 ? compareHref(selected) : undefined}
        >
          Compare {selected.length || ''}
        </a>
      </div>
      {data.error && (
        <p class="error" data-testid="filter-error">
          {data.error.message}
          {data.error.hint ? ` — ${data.error.hint}` : ''}
        </p>
      )}
      <div class="table" ref={scrollRef} role="table" aria-rowcount={count}>
        <div class="row head" role="row" style={{ gridTemplateColumns: grid, width: `${width}px` }}>
          <span role="columnheader" />
          {visible.map((c) => (
            <span
              key={c.key}
              role="columnheader"
              tabIndex={0}
              class={`th${c.numeric ? ' num' : ''}`}
              data-col={c.key}
              aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              title={c.sortable === false ? c.key : `${c.key} (click to sort)`}
              onClick={() => toggleSort(c.key)}
              onKeyDown={(e) => e.key === 'Enter' && toggleSort(c.key)}
            >
              {c.label}
              {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
            </span>
          ))}
        </div>
        <div class="body" style={{ height: `${visibleRows.totalHeight}px`, width: `${width}px` }}>
          {indexes.map((i) => {
            const row = data.row(i);
            return row ? (
              <RunRowView key={row.id} row={row} columns={visible} grid={grid} width={width} top={i * ROW_HEIGHT} selected={selected.includes(row.id)} onToggle={toggleRow} />
            ) : (
              <div key={`loading-${i}`} class="row loading" role="row" aria-busy="true" style={{ gridTemplateColumns: grid, width: `${width}px`, transform: `translateY(${i * ROW_HEIGHT}px)` }} />
            );
          })}
        </div>
        {data.matching === 0 && <p class="note">{data.total === 0 ? 'No runs yet: run a pipeline (mlpipe run pipeline.yaml).' : 'No run matches.'}</p>}
      </div>
    </section>
  );
}

function RunRowView(p: { row: RunRow; columns: Column[]; grid: string; width: number; top: number; selected: boolean; onToggle: (id: string) => void }) {
  const { row } = p;
  return (
    <div
      class={`row${p.selected ? ' selected' : ''} status-${row.status}${row.deletedAt !== null ? ' deleted' : ''}`}
      role="row"
      data-run-id={row.id}
      style={{ gridTemplateColumns: p.grid, width: `${p.width}px`, transform: `translateY(${p.top}px)` }}
    >
      <span role="cell">
        <input type="checkbox" aria-label={`select ${row.shortId}`} data-testid="select-run" checked={p.selected} onChange={() => p.onToggle(row.id)} />
      </span>
      {p.columns.map((c) => {
        const v = c.value(row);
        const text = c.text(row);
        if (c.key === 'run') {
          return (
            <span role="cell" key={c.key} data-col={c.key} data-value={row.id}>
              <a href={runHref(row.id)} title={row.name ? `${row.name} (${row.id})` : row.id}>
                {text}
              </a>
              {row.deletedAt !== null && <span class="badge deleted">deleted</span>}
            </span>
          );
        }
        if (c.key === 'status') {
          return (
            <span role="cell" key={c.key} data-col={c.key} data-value={row.status}>
              <span class={`badge ${row.status}`}>{row.status}</span>
            </span>
          );
        }
        const title = c.key === 'reason' && row.failure ? [text, ...row.failure.lastLines].join('\n') : text;
        return (
          <span role="cell" key={c.key} class={`${c.numeric ? 'num' : ''}${c.key === 'reason' ? ' reason' : ''}`} data-col={c.key} data-value={v === null ? '' : String(v)} title={title}>
            {text}
          </span>
        );
      })}
    </div>
  );
}
