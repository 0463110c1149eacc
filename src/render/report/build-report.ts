import type { Tracker } from '../../core/tracker/types.js';
import { buildComparison, loadRuns, type Comparison } from '../../app/compare/build-comparison.js';
import { selectRuns, type RunSelection } from '../../app/compare/select-runs.js';
import { comparisonLegend, comparisonTable } from '../comparison.js';
import { formatCell } from '../numbers.js';
import { renderCharts, type Chart } from './charts.js';
import { findConfusionMatrix, readArtifactFile, type ArtifactJsonReader, type ConfusionMatrix } from '../../app/report/confusion-matrix.js';
import { runFailure, type RunFailure } from '../../app/compare/run-failure.js';
import { findImportance, type ImportanceRow } from '../../app/report/importance.js';
import { escapeHtml, REPORT_CSS, tableHtml } from './html.js';
import type { Style } from '../ansi.js';

const CHANGED: Style[] = ['cyan'];

export interface ReportOptions extends RunSelection {
  /** Only these metrics (tables and curves). */
  metrics?: string[];
}

/** What `mlpipe report` produced; `html` is the whole self-contained document. */
export interface Report {
  schemaVersion: 1;
  baseline: string;
  runs: string[];
  charts: { title: string; kind: Chart['kind'] }[];
  html: string;
}

/**
 * One self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): the comparison
 * table, a chart per per-step metric with a line per run, each run's confusion matrix when it has
 * one, and the params.
 */
export async function buildReport(tracker: Tracker, opts: ReportOptions, readArtifact: ArtifactJsonReader = readArtifactFile): Promise<Report> {
  const { ids, baseline } = await selectRuns(tracker, opts);
  const data = await loadRuns(tracker, ids);
  const pointsOf = new Map(data.map((d) => [d.run.id, d.points]));
  const comparison = buildComparison(data, { baseline, metrics: opts.metrics, allIds: await tracker.findRunIds('') });
  const matrices: { title: string; matrix: ConfusionMatrix }[] = [];
  const failures = new Map<string, RunFailure>();
  const importance: { title: string; rows: ImportanceRow[] }[] = [];
  for (const r of comparison.runs) {
    const found = findImportance(pointsOf.get(r.id) ?? []);
    if (found) importance.push({ title: `${r.shortId} · ${found.stage}`, rows: found.rows });
  }
  for (const r of comparison.runs) {
    const found = await findConfusionMatrix(pointsOf.get(r.id) ?? [], await tracker.getArtifacts(r.id), readArtifact);
    if (found) matrices.push({ title: `${r.shortId} · ${found.stage}`, matrix: found.matrix });
    const failure = runFailure(data.find((d) => d.run.id === r.id)!.run, await tracker.getStageRuns(r.id));
    if (failure) failures.set(r.id, failure);
  }
  const charts = await renderCharts(comparison.curves, comparison.runs, matrices);
  return {
    schemaVersion: 1,
    baseline,
    runs: comparison.runs.map((r) => r.id),
    charts: charts.map((c) => ({ title: c.title, kind: c.kind })),
    html: reportHtml(comparison, charts, failures, importance),
  };
}

/** A table per run that recorded permutation importance (evaluate `importance`): features by mean metric drop, largest first. */
function importanceHtml(list: readonly { title: string; rows: ImportanceRow[] }[]): string {
  if (list.length === 0) return '<p class="note">No run recorded permutation importance (evaluate <code>importance:</code>).</p>';
  const tables = list.map(
    (t) =>
      `<h3>${escapeHtml(t.title)}</h3>\n${tableHtml({ columns: [{ header: 'feature' }, { header: 'mean drop' }, { header: 'std' }], rows: t.rows.map((r) => ({ cells: [r.feature, formatCell(r.mean), formatCell(r.std)] })) }, 'importance')}`,
  );
  return `${tables.join('\n')}\n<p class="note">The drop of the evaluation metric on the evaluated split when the feature's values are shuffled between rows (mean and std over the repeats); near zero: the model does not use it.</p>`;
}

function reportHtml(c: Comparison, charts: Chart[], failures: ReadonlyMap<string, RunFailure>, importance: readonly { title: string; rows: ImportanceRow[] }[]): string {
  const pipelines = [...new Set(c.runs.map((r) => r.pipeline))].join(', ');
  const title = `mlpipe report: ${c.runs.length} run${c.runs.length === 1 ? '' : 's'} of ${pipelines}`;
  const metricsOnly = comparisonTable({ ...c, params: [], curves: [] });
  const section = (heading: string, kind: Chart['kind'], empty: string) => {
    const list = charts.filter((ch) => ch.kind === kind);
    const body = list.length
      ? `<div class="charts">${list.map((ch) => `<figure class="chart" data-kind="${kind}" data-title="${escapeHtml(ch.title)}">${ch.svg}<figcaption>${escapeHtml(ch.title)}</figcaption></figure>`).join('\n')}</div>`
      : `<p class="note">${empty}</p>`;
    return `<h2>${heading}</h2>\n${body}`;
  };
  const runs = c.runs.map((r) => `<li>${r.name ? `<strong class="run-name">${escapeHtml(r.name)}</strong> ` : ''}<code>${escapeHtml(r.id)}</code>${r.isBaseline ? ' (baseline)' : ''} — ${escapeHtml(r.pipeline)}, <span class="${r.status === 'failed' ? 'failed' : ''}">${escapeHtml(r.status)}</span>, started ${new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC${r.deletedAt !== null ? ' (deleted)' : ''}${tagsHtml(r.tags)}${r.note ? `<div class="note run-note">${escapeHtml(r.note)}</div>` : ''}${failureHtml(failures.get(r.id))}</li>`);
  const params = c.params.length
    ? tableHtml(
        {
          columns: [{ header: 'param' }, ...c.runs.map((r) => ({ header: r.shortId }))],
          rows: c.params.map((p) => ({ cells: [p.name, ...p.values.map((v) => ({ text: formatCell(v), styles: p.changed ? CHANGED : [] }))] })),
        },
        'params',
      ) + '<p class="note">Highlighted: params whose values differ between runs.</p>'
    : '<p class="note">The runs have no params.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<ul class="runs">${runs.join('\n')}</ul>
<h2>Metrics</h2>
${c.metrics.length ? `${tableHtml(metricsOnly, 'compare')}\n<p class="legend">${escapeHtml(comparisonLegend(c))}</p>` : '<p class="note">The runs logged no final metrics.</p>'}
${section('Learning curves', 'curve', 'The runs logged no per-step metrics.')}
${section('Confusion matrices', 'confusion', 'No run has a confusion matrix (classification runs record one in their evaluation metrics).')}
<h2>Feature importance</h2>
${importanceHtml(importance)}
<h2>Params</h2>
${params}
</body>
</html>
`;
}

function tagsHtml(tags: Record<string, string>): string {
  const entries = Object.entries(tags);
  return entries.length ? ` <span class="tags">${entries.map(([k, v]) => `<code class="tag">${escapeHtml(k)}=${escapeHtml(v)}</code>`).join(' ')}</span>` : '';
}

function failureHtml(f: RunFailure | undefined): string {
  if (!f) return '';
  const where = f.stage ? `stage <code>${escapeHtml(f.stage)}</code> failed: ` : '';
  const tail = f.lastLines.length ? `<pre class="tail">${escapeHtml(f.lastLines.join('\n'))}</pre>` : '';
  return `<div class="failure">${where}${escapeHtml(f.error)}${tail}</div>`;
}
