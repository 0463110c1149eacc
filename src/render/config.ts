import type { ConfigReport, RemoteRow } from '../app/config/effective-settings.js';
import { renderTable } from './table.js';

const shownValue = (v: string | boolean | null): string => (v === null ? '(none)' : String(v));

/** `mlpipe config list`: each effective setting, its value and where it came from, then the remotes. */
export function renderConfigReport(report: ConfigReport): string {
  const head = report.file ? `project configuration: ${report.file}` : `no mlpipe.yaml (project root: ${report.root}; \`mlpipe config set\` or \`mlpipe remote add\` creates one)`;
  const settings = renderTable({
    columns: [{ header: 'setting' }, { header: 'value' }, { header: 'from' }],
    rows: report.settings.map((s) => ({ cells: [s.key, shownValue(s.value), s.source === 'default' ? 'default' : `${s.source} (${s.origin})`] })),
  });
  const remotes = report.remotes.length ? `\n\nremotes:\n${renderRemoteList(report.remotes)}` : '';
  return `${head}\n\n${settings.trimEnd()}${remotes}`;
}

/** `mlpipe remote list`: name (* the default), URL and its S3 settings. */
export function renderRemoteList(remotes: RemoteRow[]): string {
  if (remotes.length === 0) return 'no remotes (add one: mlpipe remote add NAME URL)';
  return renderTable({
    columns: [{ header: '' }, { header: 'name' }, { header: 'url' }, { header: 'settings' }],
    rows: remotes.map((r) => ({
      cells: [
        r.default ? '*' : '',
        r.name,
        r.url,
        [r.endpoint && `endpoint ${r.endpoint}`, r.region && `region ${r.region}`, r.pathStyle && 'path-style', r.profile && `profile ${r.profile}`].filter(Boolean).join(', '),
      ],
    })),
  }).trimEnd();
}
