import type { Comparison } from '../app/compare/build-comparison.js';
import type { ConditionResult } from '../app/compare/fail-if.js';
import { describeFailures } from '../app/compare/fail-if.js';
import { sparkline } from './sparkline.js';
import type { Style } from './ansi.js';
import { formatCell, formatDelta, formatTime } from './numbers.js';
import { renderCsv, renderMarkdown, renderTable, type Cell, type Row, type Table } from './table.js';

export type CompareFormat = 'table' | 'markdown' | 'csv';

const BEST = '★';

/** The comparison as a table: one column per run; run facts, params, final metrics with deltas, learning curves. */
export function comparisonTable(c: Comparison): Table {
  const rows: Row[] = [];
  const line = (name: string, cells: (Cell | string)[]) => rows.push({ cells: [`  ${name}`, ...cells] });
  const runs = c.runs;
  if (runs.some((r) => r.name)) line('name', runs.map((r) => r.name ?? ''));
  if (new Set(runs.map((r) => r.pipeline)).size > 1) line('pipeline', runs.map((r) => r.pipeline));
  if (runs.some((r) => r.status !== 'completed')) line('status', runs.map((r) => ({ text: r.status, styles: r.status === 'failed' ? ['red'] : [] })));
  if (runs.some((r) => r.deletedAt !== null)) line('deleted', runs.map((r) => (r.deletedAt === null ? '' : formatTime(r.deletedAt))));
  line('started', runs.map((r) => formatTime(r.startedAt)));
  for (const key of tagKeys(c)) line(`tags.${key}`, runs.map((r) => r.tags[key] ?? ''));
  if (c.params.length) rows.push({ section: 'params' });
  for (const p of c.params) line(p.name, p.values.map((v) => ({ text: formatCell(v), styles: p.changed ? ['cyan'] : [] })));
  if (c.metrics.length) rows.push({ section: 'metrics' });
  for (const m of c.metrics) {
    line(
      m.name,
      m.values.map((v, i): Cell => {
        if (v === null) return { text: '' };
        const d = m.deltas[i];
        const changed = d !== null && d !== 0 && m.ranked;
        const better = changed && (d > 0) === (m.direction === 'higher');
        const mark = changed ? (better ? ' ▲' : ' ▼') : '';
        const isBest = m.best.includes(i);
        const styles: Style[] = [...(changed ? [better ? 'green' : 'red'] : []), ...(isBest ? ['bold'] : [])] as Style[];
        return { text: `${formatCell(v)}${d === null || d === 0 ? '' : ` (${formatDelta(d)}${mark})`}${isBest ? ` ${BEST}` : ''}`, styles };
      }),
    );
  }
  if (c.curves.length) rows.push({ section: 'curves' });
  for (const curve of c.curves) {
    let min = Infinity;
    let max = -Infinity;
    for (const pts of curve.points) for (const p of pts) (min = Math.min(min, p.value)), (max = Math.max(max, p.value));
    line(
      curve.name,
      curve.points.map((pts) => (pts.length ? `${sparkline(pts.map((p) => p.value), { min, max })} ${formatCell(pts[pts.length - 1].value)}` : '')),
    );
  }
  return {
    columns: [{ header: '' }, ...runs.map((r) => ({ header: r.isBaseline ? `${r.shortId} (baseline)` : r.shortId }))],
    rows,
  };
}

/** Every tag key of the compared runs, sorted. */
function tagKeys(c: Comparison): string[] {
  return [...new Set(c.runs.flatMap((r) => Object.keys(r.tags)))].sort();
}

/** Explains the marks under a table. */
export function comparisonLegend(c: Comparison): string {
  const base = c.runs.find((r) => r.isBaseline);
  const lower = c.metrics.filter((m) => m.direction === 'lower').map((m) => m.name);
  return `Δ vs baseline ${base?.shortId ?? c.baseline}: ▲ better, ▼ worse; ${BEST} best${lower.length ? `; lower is better for ${lower.join(', ')}` : ''}`;
}

/** One row per run: id, pipeline, status, started, baseline, then each param and final metric (raw values). */
export function comparisonCsv(c: Comparison): string {
  const named = c.runs.some((r) => r.name);
  const tags = tagKeys(c);
  const header = ['run', ...(named ? ['name'] : []), 'pipeline', 'status', 'started', 'baseline', ...c.params.map((p) => `params.${p.name}`), ...c.metrics.map((m) => m.name), ...tags.map((k) => `tags.${k}`)];
  const rows = c.runs.map((r, i) => [
    r.id,
    ...(named ? [r.name ?? ''] : []),
    r.pipeline,
    r.status,
    new Date(r.startedAt).toISOString(),
    r.isBaseline ? 'true' : 'false',
    ...c.params.map((p) => (typeof p.values[i] === 'object' && p.values[i] !== null ? JSON.stringify(p.values[i]) : (p.values[i] as string | number | null))),
    ...c.metrics.map((m) => m.values[i]),
    ...tags.map((k) => r.tags[k] ?? ''),
  ]);
  return renderCsv([header, ...rows]);
}

/** The comparison in the asked format; `--fail-if` results are appended to table and markdown output. */
export function renderComparison(c: Comparison, format: CompareFormat, opts: { color?: boolean; conditions?: ConditionResult[] } = {}): string {
  if (format === 'csv') return comparisonCsv(c);
  const failures = describeFailures(opts.conditions ?? [], c);
  const table = comparisonTable(c);
  if (format === 'markdown') {
    const pipelines = [...new Set(c.runs.map((r) => r.pipeline))].join(', ');
    const parts = [`#### mlpipe: ${c.runs.length} run${c.runs.length === 1 ? '' : 's'} of ${pipelines}\n`, renderMarkdown(table), `\n${comparisonLegend(c)}\n`];
    for (const r of opts.conditions ?? []) parts.push(`\n- ${r.holds ? '❌' : '✅'} \`--fail-if ${r.expression}\` ${r.holds ? 'holds' : 'does not hold'}`);
    if (failures.length) parts.push(`\n\n${failures.map((f) => `> ${f}`).join('\n')}`);
    return `${parts.join('')}\n`.replace(/\n\n+$/, '\n');
  }
  return `${renderTable(table, { color: opts.color })}${comparisonLegend(c)}\n`;
}
