import type { RunDetails, RunListItem } from '../app/compare/run-summaries.js';
import type { RunDeletion, RunMeta } from '../app/runs/run-meta.js';
import type { RunGetResult, RunOutput } from '../app/runs/run-outputs.js';
import { paint, type Style } from './ansi.js';
import { formatBytes } from './bytes.js';
import { formatCell, formatDuration, formatTime } from './numbers.js';
import { renderTable } from './table.js';
import { USER_TAG, isImportedRun } from '../core/run/imported-runs.js';

/** `owner=ana data=march` (mlpipe's own `mlpipe.*` tags left out). */
export function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .filter(([k]) => !k.startsWith('mlpipe.'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

const AVAILABLE: Record<RunOutput['available'], string> = { cache: 'yes', 'run-folder': "no, in the run's folder", missing: 'no (removed by gc, or made elsewhere: runs get --pull)', replaced: 'no (a later run of the stage replaced it)' };

const STATUS_STYLE: Record<string, Style[]> = { completed: ['green'], failed: ['red'], interrupted: ['yellow'], running: ['cyan'] };

type ListColumn = { header: string; align?: 'right'; cell(r: RunListItem): string | { text: string; styles?: Style[] } };

const LIST_COLUMNS: Record<string, ListColumn> = {
  id: { header: 'ID', cell: (r) => r.shortId },
  name: { header: 'NAME', cell: (r) => r.name ?? '' },
  pipeline: { header: 'PIPELINE', cell: (r) => r.pipeline },
  status: { header: 'STATUS', cell: (r) => (r.deletedAt !== null ? { text: `${r.status} (deleted)`, styles: ['dim'] } : { text: r.status, styles: STATUS_STYLE[r.status] }) },
  started: { header: 'STARTED', cell: (r) => formatTime(r.startedAt) },
  duration: { header: 'DURATION', align: 'right', cell: (r) => formatDuration(r.durationMs) },
  stages: { header: 'STAGES', cell: (r) => [`${r.ran} ran`, `${r.cached} cached`, ...(r.failed ? [`${r.failed} failed`] : [])].join(', ') },
  metrics: {
    header: 'METRICS',
    cell: (r) =>
      Object.entries(r.headline)
        .map(([k, v]) => `${k}=${formatCell(v)}`)
        .join(' '),
  },
  tags: { header: 'TAGS', cell: (r) => formatTags(r.tags) },
  sweep: { header: 'SWEEP', cell: (r) => r.sweepId ?? '' },
  commit: { header: 'COMMIT', cell: (r) => r.gitCommit?.slice(0, 10) ?? '' },
};

/** The columns `runs list` shows unless `--columns` says otherwise (name and tags when a listed run has them). */
export const DEFAULT_LIST_COLUMNS = ['id', 'pipeline', 'status', 'started', 'duration', 'stages', 'metrics'];

function defaultColumns(runs: readonly RunListItem[]): string[] {
  const cols = [...DEFAULT_LIST_COLUMNS];
  if (runs.some((r) => r.name)) cols.splice(1, 0, 'name');
  if (runs.some((r) => Object.keys(r.tags).some((k) => !k.startsWith('mlpipe.')))) cols.push('tags');
  return cols;
}
/** The names `--columns` takes besides params.NAME, metrics.STAGE.KEY and tags.KEY. */
export const LIST_COLUMN_NAMES = Object.keys(LIST_COLUMNS);

function paramAt(params: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = params;
  for (const k of path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A `--columns` entry as a table column, or undefined when it names nothing. */
export function listColumn(name: string): ListColumn | undefined {
  if (Object.hasOwn(LIST_COLUMNS, name)) return LIST_COLUMNS[name];
  if (name.startsWith('params.') && name.length > 7) {
    const path = name.slice(7).split('.');
    return { header: name.slice(7), align: 'right', cell: (r) => { const v = paramAt(r.params, path); return v === undefined ? '' : formatCell(v); } };
  }
  if (/^metrics\.[^.]+\..+/.test(name)) return { header: name.slice(8), align: 'right', cell: (r) => (name.slice(8) in r.metrics ? formatCell(r.metrics[name.slice(8)]) : '') };
  if (name.startsWith('tags.') && name.length > 5) return { header: name, cell: (r) => r.tags[name.slice(5)] ?? '' };
  return undefined;
}

/** `mlpipe runs list` as a table, newest first (or in the order asked for), with the columns asked for. */
export function renderRunList(runs: readonly RunListItem[], opts: { color?: boolean; columns?: readonly string[]; filtered?: boolean; hiddenDeleted?: number } = {}): string {
  if (runs.length === 0 && opts.hiddenDeleted) return `no ${opts.filtered ? 'run matches' : 'runs'} but ${opts.hiddenDeleted} deleted run${opts.hiddenDeleted === 1 ? '' : 's'}${opts.filtered ? ' that match' : ''}: mlpipe runs list --deleted lists ${opts.hiddenDeleted === 1 ? 'it' : 'them'}\n`;
  if (runs.length === 0) return opts.filtered ? 'no run matches\n' : 'no runs recorded yet; run a pipeline with: mlpipe run pipeline.yaml\n';
  const columns = (opts.columns ?? defaultColumns(runs)).map((c) => listColumn(c)!).filter(Boolean);
  return renderTable(
    {
      columns: columns.map((c) => ({ header: c.header, ...(c.align ? { align: c.align } : {}) })),
      rows: runs.map((r) => ({ cells: columns.map((c) => c.cell(r)) })),
    },
    { color: opts.color },
  );
}

/** `mlpipe runs show`: the run's facts, params, stages, metrics, curves, artifacts and error. */
export function renderRunDetails(d: RunDetails & { outputs?: readonly RunOutput[] }, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const r = d.run;
  const head = (t: string) => paint(t, ['bold'], color);
  const imported = isImportedRun(r);
  const facts: [string, string][] = [
    ['name', r.name ?? ''],
    ['pipeline', r.pipeline],
    ['status', paint(r.status, STATUS_STYLE[r.status] ?? [], color)],
    ...(r.deletedAt != null ? [['deleted', `${formatTime(r.deletedAt)} (runs restore ${r.shortId} brings it back; gc frees what only deleted runs use)`] as [string, string]] : []),
    ['tags', formatTags(r.tags ?? {})],
    ...(imported ? [['source', `ran elsewhere${r.tags?.[USER_TAG] ? ` (by ${r.tags[USER_TAG]} on ${r.host})` : ''}; known here from the cache entries this workspace restored, so only those stages are listed`] as [string, string]] : []),
    ['started', `${formatTime(r.startedAt)}${r.durationMs !== null ? ` (${formatDuration(r.durationMs)})` : ''}`],
    ['spec', r.specHash ? `${r.specPath} (sha256 ${r.specHash.slice(0, 12)})` : ''],
    ['git commit', r.gitCommit ?? ''],
    ['backend', r.backend ?? ''],
    ['host', imported ? r.host : `${r.host} (pid ${r.pid})`],
    ...(r.sweepId ? [['sweep', r.sweepId] as [string, string]] : []),
  ];
  const out = [`${head('run')} ${r.id}`, ...facts.filter(([, v]) => v).map(([k, v]) => `  ${k.padEnd(10)} ${v}`)];
  if (r.note) out.push(head('note'), ...r.note.split('\n').map((l) => `  ${l}`));
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
  const unstable = d.stages.filter((s) => s.nondeterministic);
  if (unstable.length) {
    out.push(head('nondeterministic'));
    for (const s of unstable) {
      const n = s.nondeterministic!;
      out.push(`  ${paint(s.stage, ['yellow'], color)}: ran with the same cache key as run ${n.previousRunId} and wrote different files: ${n.files.join(', ')}`);
    }
  }
  const metrics = Object.entries(d.metrics);
  if (metrics.length) {
    const w = Math.max(...metrics.map(([k]) => k.length));
    out.push(head('metrics'), ...metrics.map(([k, v]) => `  ${k.padEnd(w)}  ${formatCell(v)}`));
  }
  const curves = Object.entries(d.curves);
  if (curves.length) out.push(head('curves'), ...curves.map(([k, c]) => `  ${k}: ${c.points} points, last ${formatCell(c.last)}`));
  if (d.outputs?.length) {
    out.push(head('outputs'));
    out.push(
      renderTable(
        {
          columns: [{ header: 'OUTPUT' }, { header: 'FILES', align: 'right' }, { header: 'SIZE', align: 'right' }, { header: 'DIGEST' }, { header: 'IN CACHE' }],
          rows: d.outputs.map((o) => ({ cells: [o.ref, o.files === null ? '' : String(o.files), formatBytes(o.size), o.digest.slice(0, 16), AVAILABLE[o.available]] })),
        },
        { color, indent: '  ' },
      ).trimEnd(),
    );
    const first = d.outputs.find((o) => o.available === 'cache' || o.available === 'run-folder');
    if (first) out.push(`  fetch one with: mlpipe runs get ${r.shortId} ${first.ref} -o DIR (a file or folder inside it: ${first.ref}/PATH)`);
  } else if (d.artifacts.length) {
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


/** One line after `runs tag`, `runs note` or `runs rename`. */
export function renderRunMeta(m: RunMeta, what: 'tags' | 'note' | 'name'): string {
  if (what === 'tags') return `${m.id} tags: ${formatTags(m.tags) || '(none)'}\n`;
  if (what === 'name') return m.name === null ? `${m.id} has no name now\n` : `${m.id} is named ${m.name}\n`;
  return m.note === null ? `${m.id} has no note now\n` : `${m.id} note: ${m.note.split('\n')[0]}${m.note.includes('\n') ? ' …' : ''}\n`;
}

/** What `runs delete` / `runs restore` did. */
export function renderRunDeletion(d: RunDeletion, deleted: boolean): string {
  const label = (c: RunDeletion['changed'][number]) => `${c.id}${c.name ? ` (${c.name})` : ''}`;
  const out: string[] = [];
  if (d.changed.length) out.push(`${deleted ? 'deleted' : 'restored'} ${d.changed.length} run${d.changed.length === 1 ? '' : 's'}: ${d.changed.map(label).join(', ')}`);
  if (d.unchanged.length) out.push(`already ${deleted ? 'deleted' : 'not deleted'}: ${d.unchanged.join(', ')}`);
  if (deleted && d.changed.length) out.push(`they are left out of runs list, compare and report (runs list --deleted shows them); mlpipe gc frees what only they used; undo with: mlpipe runs restore ${d.changed.map((c) => c.id).join(' ')}`);
  return `${out.join('\n')}\n`;
}

/** What `runs get` wrote, one line per file or folder. */
export function renderRunGet(r: RunGetResult): string {
  const lines = r.written.map((w) => `wrote ${w.path} (${w.type === 'dir' ? `${w.files} file${w.files === 1 ? '' : 's'}, ` : ''}${formatBytes(w.size)}; ${r.stage}/${w.output}${w.inside ? `/${w.inside}` : ''} of run ${r.runId}, verified${w.from === 'run-folder' ? ", from the run's folder" : ''})`);
  return `${lines.join('\n')}\n`;
}
