import type { RunPageResponse } from './api.js';
import { formatCell } from './format.js';

/** Permutation importance: a row per feature, most important first, its mean metric drop as a bar with the std. */
export function ImportanceTable({ importance }: { importance: NonNullable<RunPageResponse['importance']> }) {
  const top = Math.max(...importance.rows.map((r) => Math.abs(r.mean) + r.std), Number.MIN_VALUE);
  const pct = (v: number) => `${(v / top) * 100}%`;
  return (
    <>
      <p class="note">
        Stage {importance.stage}: how much the metric drops when a feature's values are shuffled (mean ± std over the repeats); a drop near 0 means the model hardly uses it.
      </p>
      <table class="grid importance" data-testid="importance" data-stage={importance.stage}>
        <thead>
          <tr>
            <th>feature</th>
            <th>mean drop</th>
            <th>std</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {importance.rows.map((r) => (
            <tr key={r.feature} data-feature={r.feature}>
              <th>{r.feature}</th>
              <td class="num" data-col="mean" data-value={r.mean}>
                {formatCell(r.mean)}
              </td>
              <td class="num" data-col="std" data-value={r.std}>
                ± {formatCell(r.std)}
              </td>
              <td class="bar-cell">
                <div class="track">
                  <span class={`bar${r.mean < 0 ? ' negative' : ''}`} style={{ width: pct(Math.abs(r.mean)) }} />
                  <span class="whisker" title={`± ${formatCell(r.std)}`} style={{ left: pct(Math.max(0, Math.abs(r.mean) - r.std)), width: pct(Math.min(Math.abs(r.mean) + r.std, top) - Math.max(0, Math.abs(r.mean) - r.std)) }} />
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Slice metrics: a table per column with a row per value (its rows and each metric) and a last row with each metric's gap. */
export function SliceTables({ slices }: { slices: NonNullable<RunPageResponse['slices']> }) {
  return (
    <>
      <p class="note">Stage {slices.stage}: the metrics of the rows of each value apart; the gap is the largest difference between two values.</p>
      {slices.columns.map((c) => (
        <table key={c.column} class="grid slices" data-testid="slices" data-column={c.column}>
          <thead>
            <tr>
              <th>{c.column}</th>
              <th>n</th>
              {c.metrics.map((m) => (
                <th key={m}>{m}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {c.values.map((v) => (
              <tr key={v.value} data-value={v.value}>
                <th>{v.value}</th>
                <td class="num">{v.n === null ? '—' : formatCell(v.n)}</td>
                {c.metrics.map((m) => (
                  <td key={m} class="num" data-metric={m}>
                    {v.metrics[m] === undefined ? '—' : formatCell(v.metrics[m])}
                  </td>
                ))}
              </tr>
            ))}
            <tr class="gap" data-value="gap">
              <th>gap</th>
              <td />
              {c.metrics.map((m) => (
                <td key={m} class="num" data-metric={m}>
                  {c.gaps[m] === undefined ? '—' : formatCell(c.gaps[m])}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      ))}
    </>
  );
}
