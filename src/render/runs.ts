import type { RunDetails, RunListItem } from '../app/compare/run-summaries.js';
import { paint, type Style } from './ansi.js';
import { formatBytes } from './bytes.js';
import { formatCell, formatDuration, formatTime } from './numbers.js';
import { renderTable } from './table.js';

const STATUS_STYLE: Record<string, Style[]> = { completed: ['green'], failed: ['red'], interrupted: ['yellow'], running: ['cyan'] };

/** `mlpipe runs list` as a table, newest first. */
export function renderRunList(runs: readonly RunListItem[], opts: { color?: boolean } = {}): string {
  if (runs.length === 0) return 'no runs recorded yet; run a pipeline with: mlpipe run pipeline.yaml\n';
  return renderTable(
    {
      columns: [{ header: 'ID' }, { header: 'PIPELINE' }, { header: 'STATUS' }, { header: 'STARTED' }, { header: 'DURATION', align: 'right' }, { header: 'STAGES' }, { header: 'METRICS' }],
      rows: runs.map((r) => ({
        cells: [
          r.shortId,
          r.pipeline,
          { text: r.status, styles: STATUS_STYLE[r.status] },
          formatTime(r.startedAt),
          formatDuration(r.durationMs),
          [`${r.ran} ran`, `${r.cached} cached`, ...(r.failed ? [`${r.failed} failed`] : [])].join(', '),
          Object.entries(r.headline)
            .map(([k, v]) => `${k}=${formatCell(v)}`)
            .join(' '),
        ],
      })),
    },
    opts,
  );
}

/** `mlpipe runs show`: the run's facts, params, stages, metrics, curves, artifacts and error. */
export function renderRunDetails(d: RunDetails, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const r = d.run;
  const head = (t: string) => paint(t, ['bold'], color);
  const facts: [string, string][] = [
    ['pipeline', r.pipeline],
    ['status', paint(r.status, STATUS_STYLE[r.status] ?? [], color)],
    ['started', `${formatTime(r.startedAt)}${r.durationMs !== null ? ` (${formatDuration(r.durationMs)})` : ''}`],
    ['spec', `${r.specPath} (sha256 ${r.specHash.slice(0, 12)})`],
    ['git commit', r.gitCommit ?? ''],
    ['backend', r.backend ?? ''],
    ['host', `${r.host} (pid ${r.pid})`],
    ...(r.sweepId ? [['sweep', r.sweepId] as [string, string]] : []),
  ];
  const out = [`${head('run')} ${r.id}`, ...facts.filter(([, v]) => v).map(([k, v]) => `  ${k.padEnd(10)} ${v}`)];
  const params = Object.entries(r.params ?? {});
  if (params.length) out.push(head('params'), ...params.map(([k, v]) => `  ${k} = ${formatCell(v)}`));
  if (d.stages.length) {
    out.push(head('stages'));
    out.push(
      renderTable(
        {
          columns: [{ header: 'STAGE' }, { header: 'KIND' }, { header: 'STATUS' }, { header: 'SOURCE' }, { header: 'DURATION', align: 'right' }, { header: 'REASON' }],
          rows: d.stages.map((s) => ({
            cells: [s.stage, s.kind, { text: s.status, styles: STATUS_STYLE[s.status] }, s.cachedFrom ? `cache (${s.cachedFrom})` : s.status === 'completed' ? 'ran' : '', formatDuration(s.durationMs), s.reason ?? ''],
          })),
        },
        { color, indent: '  ' },
      ).trimEnd(),
    );
  }
  const metrics = Object.entries(d.metrics);
  if (metrics.length) {
    const w = Math.max(...metrics.map(([k]) => k.length));
    out.push(head('metrics'), ...metrics.map(([k, v]) => `  ${k.padEnd(w)}  ${formatCell(v)}`));
  }
  const curves = Object.entries(d.curves);
  if (curves.length) out.push(head('curves'), ...curves.map(([k, c]) => `  ${k}: ${c.points} points, last ${formatCell(c.last)}`));
  if (d.artifacts.length) {
    out.push(head('artifacts'));
    out.push(
      renderTable(
        {
          columns: [{ header: 'STAGE' }, { header: 'NAME' }, { header: 'PATH' }, { header: 'HASH' }, { header: 'SIZE', align: 'right' }],
          rows: d.artifacts.map((a) => ({ cells: [a.stage, a.name, a.path, a.hash.slice(0, 16), formatBytes(a.size)] })),
        },
        { color, indent: '  ' },
      ).trimEnd(),
    );
  }
  const failed = d.stages.filter((s) => s.error);
  if (failed.length || r.error) {
    out.push(head('error'));
    if (failed.length) for (const s of failed) out.push(...`${s.stage}: ${s.error}`.split('\n').map((l) => `  ${paint(l, ['red'], color)}`));
    else out.push(`  ${paint(r.error!, ['red'], color)}`);
  }
  return `${out.join('\n')}\n`;
}

