import { formatCell, formatTime } from './numbers.js';
import { renderTable } from './table.js';
import type { AliasMove } from '../app/models/aliases.js';
import type { ModelDetails, ModelListItem } from '../app/models/model-views.js';

/** `mlpipe models list` as a table. */
export function renderModelList(items: readonly ModelListItem[], opts: { color?: boolean; name?: string } = {}): string {
  if (items.length === 0) {
    return opts.name
      ? `no versions of ${opts.name} are registered; list every model with: mlpipe models list\n`
      : "no models registered yet; a pipeline's deploy stage registers one: mlpipe run pipeline.yaml\n";
  }
  return renderTable(
    {
      columns: [{ header: 'NAME' }, { header: 'VERSION', align: 'right' }, { header: 'ALIASES' }, { header: 'RUN' }, { header: 'METRICS' }, { header: 'CREATED' }],
      rows: items.map((m) => ({
        cells: [
          m.name,
          `v${m.version}`,
          { text: m.aliases.join(', '), styles: m.aliases.length ? ['green'] : [] },
          m.runId,
          Object.entries(m.keyMetrics)
            .map(([k, v]) => `${k}=${formatCell(v)}`)
            .join(' '),
          formatTime(m.createdAt),
        ],
      })),
    },
    opts,
  );
}

/** `mlpipe models show`: facts, input signature, an example request, metrics. */
export function renderModelDetails(d: ModelDetails): string {
  const s = d.signature;
  const width = Math.max(0, ...s.features.map((f) => f.name.length));
  const out = [
    `model ${d.name} v${d.version}`,
    `  aliases    ${d.aliases.join(', ') || '(none)'}`,
    `  run        ${d.runId} (stage ${d.stage})`,
    `  created    ${formatTime(d.createdAt)}`,
    `  files      ${d.dir}`,
    `  artifact   sha256 ${d.artifactHash.slice(0, 16)}`,
    `  task       ${s.task}${s.labels ? ` (labels: ${s.labels.join(', ')})` : ''}`,
    `  trained on ${s.trainedOn}`,
    'input',
    ...(s.inputKind === 'text'
      ? [`  text in "${s.textColumn}" (or send bare strings)`]
      : s.features.map((f) => `  ${f.name.padEnd(width)}  ${f.type}${f.optional ? ' (optional: missing values are filled)' : ''}`)),
    'example request (POST /predict)',
    `  ${JSON.stringify(s.exampleRequest)}`,
  ];
  const metrics = Object.entries(d.metrics).filter(([k]) => !k.includes('.'));
  if (metrics.length) out.push('metrics', ...metrics.map(([k, v]) => `  ${k} = ${formatCell(v)}`));
  return `${out.join('\n')}\n`;
}

/** One line for `models promote` / `models rollback`. */
export function renderAliasMove(m: AliasMove, verb: 'promoted' | 'rolled back'): string {
  if (!m.changed) return `${m.name}@${m.alias} already points at v${m.version}; nothing changed\n`;
  const from = m.previous === null ? '' : ` (was v${m.previous})`;
  return `${verb}: ${m.name}@${m.alias} → v${m.version}${from}\n`;
}
