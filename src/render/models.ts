import { formatBytes } from './bytes.js';
import { formatCell, formatTime } from './numbers.js';
import { renderTable } from './table.js';
import type { AliasMove, AliasRemoval } from '../app/models/aliases.js';
import type { ModelDescription } from '../app/models/describe-model.js';
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
      columns: [{ header: 'NAME' }, { header: 'VERSION', align: 'right' }, { header: 'ALIASES' }, { header: 'RUN' }, { header: 'METRICS' }, { header: 'CREATED' }, ...(items.some((m) => m.description) ? [{ header: 'DESCRIPTION' }] : [])],
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
          ...(items.some((i) => i.description) ? [oneLine(m.description ?? '', DESCRIPTION_WIDTH)] : []),
        ],
      })),
    },
    opts,
  );
}

const DESCRIPTION_WIDTH = 48;
const FILES_SHOWN = 20;

function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** `mlpipe models show`: facts, files, and for an mlpipe model its input signature and an example request; metrics. */
export function renderModelDetails(d: ModelDetails): string {
  const s = d.signature;
  const out = [
    `model ${d.name} v${d.version}`,
    ...(d.description ? d.description.split('\n').map((l, i) => `  ${i === 0 ? 'about     ' : '          '} ${l}`) : []),
    `  aliases    ${d.aliases.join(', ') || '(none)'}`,
    `  run        ${d.runId} (stage ${d.stage})`,
    `  created    ${formatTime(d.createdAt)}`,
    `  files      ${d.dir}`,
    `  artifact   sha256 ${d.artifactHash.slice(0, 16)}${d.verified ? ' (the files match it)' : ' — THE FILES NO LONGER MATCH IT: serve and predict refuse this version'}`,
  ];
  if (s) {
    const width = Math.max(0, ...s.features.map((f) => f.name.length));
    out.push(
      `  task       ${s.task}${s.labels ? ` (labels: ${s.labels.join(', ')})` : ''}`,
      `  trained on ${s.trainedOn}`,
      ...(s.weights !== 'float32' ? [`  weights    ${s.weights} (quantized on deploy; dequantized when loaded)`] : []),
      ...(s.initFrom ? [`  started    from ${s.initFrom.ref} (${s.initFrom.registered ? `${s.initFrom.registered.name} v${s.initFrom.registered.version}` : `run ${s.initFrom.producedBy.run}`}, sha256 ${s.initFrom.digest.slice(0, 16)})${s.initFrom.frozen.length ? `, frozen: ${s.initFrom.frozen.join(', ')}` : ''}`] : []),
      'input',
      ...(s.inputKind === 'text'
        ? [`  text in "${s.textColumn}" (or send bare strings)`]
        : s.features.map((f) => `  ${f.name.padEnd(width)}  ${f.type}${f.optional ? ' (optional: missing values are filled)' : ''}`)),
      'example request (POST /predict)',
      `  ${JSON.stringify(s.exampleRequest)}`,
    );
  } else {
    out.push(`  format     its own (not a model of the train stage): mlpipe keeps, verifies and versions it; serve and predict do not load it`);
    const width = Math.max(0, ...d.files.slice(0, FILES_SHOWN).map((f) => (f.path || '(the file)').length));
    out.push(
      `contents (${d.files.length} file${d.files.length === 1 ? '' : 's'}, ${formatBytes(d.files.reduce((n, f) => n + f.size, 0))})`,
      ...d.files.slice(0, FILES_SHOWN).map((f) => `  ${(f.path || '(the file)').padEnd(width)}  ${formatBytes(f.size)}`),
      ...(d.files.length > FILES_SHOWN ? [`  … and ${d.files.length - FILES_SHOWN} more (--json lists all)`] : []),
    );
  }
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

/** One line for `models unalias`. */
export function renderAliasRemoval(r: AliasRemoval): string {
  return `removed ${r.name}@${r.alias} (it pointed at v${r.version}, which stays registered)\n`;
}

/** One line for `models describe`. */
export function renderModelDescription(d: ModelDescription): string {
  if (d.description === null) return d.previous === null ? `${d.name} v${d.version} has no description; nothing changed\n` : `cleared the description of ${d.name} v${d.version}\n`;
  return `${d.name} v${d.version}: ${oneLine(d.description, 72)}\n`;
}
