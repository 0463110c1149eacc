import { useMemo, useState } from 'preact/hooks';
import { confusionSpec, curveSpec, parallelSpec, scatterSpec } from '../../src/render/chart-specs.js';
import { getJson, type CompareResponse, type CompareResult } from './api.js';
import { Chart } from './chart.js';
import { formatCell, formatDelta, formatDuration } from './format.js';
import { useLiveVersion } from './live.js';
import { runHref } from './router.js';
import { useFetch } from './use-fetch.js';
import { ErrorBox } from './widgets.js';

/** Selected runs side by side: params diff, metric deltas against a baseline, curves, matrices, param → metric views. */
export function ComparePage({ query }: { query: URLSearchParams }) {
  const live = useLiveVersion();
  const runs = query.get('runs') ?? undefined;
  const sweep = query.get('sweep') ?? undefined;
  const baseline = query.get('baseline') ?? undefined;
  const res = useFetch(() => getJson<CompareResponse>('/api/compare', { runs, sweep, baseline }), [runs, sweep, baseline, live]);
  if (res.error) return <ErrorBox error={res.error} />;
  if (!res.data) return <p class="note">Loading…</p>;
  return <CompareBody data={res.data} query={query} />;
}

function setQuery(query: URLSearchParams, key: string, value: string) {
  const q = new URLSearchParams(query);
  q.set(key, value);
  location.hash = `#/compare?${q.toString().replace(/%2C/g, ',')}`;
}

function CompareBody({ data, query }: { data: CompareResponse; query: URLSearchParams }) {
  const c = data.comparison;
  const [onlyChanged, setOnlyChanged] = useState(true);
  const params = onlyChanged ? c.params.filter((p) => p.changed) : c.params;
  const sweepId = c.sweep ? c.sweep.sweepId : sameSweep(data);
  return (
    <section class="compare-page">
      <h1>
        Comparing {c.runs.length} runs{c.sweep ? ` of sweep ${c.sweep.sweepId}` : ''}
      </h1>
      <div class="toolbar">
        <label>
          baseline{' '}
          <select data-testid="baseline" value={c.baseline} onChange={(e) => setQuery(query, 'baseline', e.currentTarget.value)}>
            {c.runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.shortId} ({r.pipeline})
              </option>
            ))}
          </select>
        </label>
        {sweepId && !c.sweep && (
          <a class="button" href={`#/compare?sweep=${encodeURIComponent(sweepId)}`}>
            Compare the whole sweep
          </a>
        )}
      </div>
      <h2>Metrics</h2>
      <MetricsTable c={c} />
      <h2>Params</h2>
      <label class="inline">
        <input type="checkbox" checked={onlyChanged} onChange={() => setOnlyChanged(!onlyChanged)} /> only params that differ
      </label>
      {params.length ? (
        <table class="grid params" data-testid="params-table">
          <thead>
            <tr>
              <th>param</th>
              {c.runs.map((r) => (
                <th key={r.id}>{r.shortId}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {params.map((p) => (
              <tr key={p.name} data-param={p.name} class={p.changed ? 'changed' : ''}>
                <th>{p.name}</th>
                {p.values.map((v, i) => (
                  <td key={c.runs[i]!.id} data-run={c.runs[i]!.id}>
                    {formatCell(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="note">{c.params.length ? 'Every param is the same in these runs.' : 'The runs have no params.'}</p>
      )}
      <h2>Learning curves</h2>
      {c.curves.length ? (
        <div class="charts">
          {c.curves.map((curve) => (
            <Chart key={curve.name} testId="curve" title={curve.name} spec={curveSpec(curve, c.runs)} />
          ))}
        </div>
      ) : (
        <p class="note">The runs logged no per-step metrics.</p>
      )}
      <h2>Confusion matrices</h2>
      {data.matrices.length ? (
        <div class="charts">
          {data.matrices.map((m) => (
            <Chart key={m.runId} testId="confusion" title={m.shortId} spec={confusionSpec(m.matrix, `${m.shortId} · ${m.stage}`)} />
          ))}
        </div>
      ) : (
        <p class="note">No run has a confusion matrix.</p>
      )}
      <ParamVsMetric c={c} />
    </section>
  );
}

function sameSweep(data: CompareResponse): string | null {
  const ids = new Set(data.rows.map((r) => r.sweepId));
  return ids.size === 1 ? [...ids][0]! : null;
}

function MetricsTable({ c }: { c: CompareResult }) {
  if (!c.metrics.length) return <p class="note">The runs logged no final metrics.</p>;
  return (
    <table class="grid metrics" data-testid="metrics-table">
      <thead>
        <tr>
          <th>metric</th>
          {c.runs.map((r) => (
            <th key={r.id} class={r.isBaseline ? 'baseline' : ''}>
              <a href={runHref(r.id)}>{r.shortId}</a>
              {r.isBaseline ? ' (baseline)' : ''}
              <div class="sub">
                <span class={`badge ${r.status}`}>{r.status}</span> {formatDuration(r.durationMs)}
              </div>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {c.metrics.map((m) => (
          <tr key={m.name} data-metric={m.name}>
            <th title={m.ranked ? `${m.direction} is better` : 'a count: not ranked'}>{m.name}</th>
            {m.values.map((v, i) => {
              const d = m.deltas[i];
              const better = d === null || d === 0 || d === undefined || !m.ranked ? '' : (d > 0) === (m.direction === 'higher') ? 'better' : 'worse';
              return (
                <td key={c.runs[i]!.id} data-run={c.runs[i]!.id} data-value={v ?? ''} data-delta={d ?? ''} class={`num${m.best.includes(i) ? ' best' : ''}`}>
                  {formatCell(v)}
                  {d !== null && d !== undefined && <span class={`delta ${better}`}> {formatDelta(d)}{better === 'better' ? ' ▲' : better === 'worse' ? ' ▼' : ''}</span>}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A scatter of any param against any metric, and parallel coordinates over the changed numeric params. */
function ParamVsMetric({ c }: { c: CompareResult }) {
  const numericParams = c.params.filter((p) => p.values.some((v) => v !== null));
  const ranked = c.metrics;
  const [x, setX] = useState<string>();
  const [y, setY] = useState<string>();
  const xName = x ?? numericParams.find((p) => p.changed)?.name ?? numericParams[0]?.name;
  const yName = y ?? ranked.find((m) => /^eval/i.test(m.name) && m.ranked)?.name ?? ranked[0]?.name;
  const points = useMemo(() => {
    const p = c.params.find((q) => q.name === xName);
    const m = c.metrics.find((q) => q.name === yName);
    if (!p || !m) return [];
    return c.runs.flatMap((r, i) => (p.values[i] !== null && m.values[i] !== null ? [{ run: r.shortId, x: p.values[i], y: m.values[i]! }] : []));
  }, [c, xName, yName]);
  const dims = c.params.filter((p) => p.changed && p.values.every((v) => typeof v === 'number' || v === null)).map((p) => p.name);
  const parallel = yName && dims.length
    ? c.runs.map((r, i) => ({
        run: r.shortId,
        values: Object.fromEntries([...dims.map((d) => [d, (c.params.find((p) => p.name === d)!.values[i] as number | null) ?? null]), [yName, c.metrics.find((m) => m.name === yName)!.values[i] ?? null]]),
      }))
    : [];
  if (!xName || !yName) return null;
  return (
    <>
      <h2>Param → metric</h2>
      <div class="toolbar">
        <label>
          param{' '}
          <select data-testid="scatter-x" value={xName} onChange={(e) => setX(e.currentTarget.value)}>
            {numericParams.map((p) => (
              <option key={p.name}>{p.name}</option>
            ))}
          </select>
        </label>
        <label>
          metric{' '}
          <select data-testid="scatter-y" value={yName} onChange={(e) => setY(e.currentTarget.value)}>
            {ranked.map((m) => (
              <option key={m.name}>{m.name}</option>
            ))}
          </select>
        </label>
      </div>
      <div class="charts">
        <Chart testId="scatter" title={`${yName} by ${xName}`} spec={scatterSpec(points, xName, yName)} />
        {parallel.length > 0 && <Chart testId="parallel" title="parallel coordinates" spec={parallelSpec(parallel, [...dims, yName])} />}
      </div>
    </>
  );
}
