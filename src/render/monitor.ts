import type { MonitorReport } from '../app/monitor/monitor-model.js';
import type { Quantiles } from '../app/monitor/distribution.js';
import { paint, type Style } from './ansi.js';
import { formatCell } from './numbers.js';
import { renderTable, type Cell, type Row } from './table.js';

const num = (x: number | undefined): string => (x === undefined ? '' : formatCell(Number(x.toPrecision(3))));
const pct = (x: number | undefined): string => (x === undefined ? '' : `${Number((x * 100).toPrecision(3))}%`);
const flagged = (text: string, bad: boolean): Cell => (bad ? { text: `${text} !`, styles: ['red'] as Style[] } : { text });

function driftTable(r: MonitorReport, color: boolean): string {
  const t = r.thresholds;
  const judged = r.rows >= t.minRows;
  const rows: Row[] = r.drift.features.map((f) => ({
    cells: [
      f.feature,
      String(f.rows),
      num(f.recentMean),
      f.trainingMean === undefined ? '' : `${num(f.trainingMean)} ± ${num(f.trainingStd)}`,
      flagged(num(f.zScore), judged && f.zScore !== undefined && Math.abs(f.zScore) > t.maxDrift),
      pct(f.missingRatio),
      flagged(pct(f.unknownRatio), judged && f.unknownRatio !== undefined && f.unknownRatio > t.maxUnknown),
    ],
  }));
  const table = renderTable(
    {
      columns: [{ header: 'feature' }, { header: 'rows', align: 'right' }, { header: 'mean', align: 'right' }, { header: 'training mean ± std', align: 'right' }, { header: 'z-score', align: 'right' }, { header: 'missing', align: 'right' }, { header: 'unseen', align: 'right' }],
      rows,
    },
    { color },
  );
  const text = r.drift.text;
  const textLine = text ? `text: ${num(text.tokensMean)} tokens per row, ${pct(text.oovRatio)} outside the vocabulary\n` : '';
  return `input drift, against the training statistics:\n${table}${textLine}`;
}

const quantileCells = (q: Quantiles | undefined): string[] => (q ? [String(q.n), num(q.mean), num(q.p10), num(q.p50), num(q.p90)] : ['', '', '', '', '']);

function predictionsTable(r: MonitorReport, color: boolean): string {
  const { live, test, testActual, shift } = r.predictions;
  if (live.kind === 'classes') {
    const labels = Object.keys(live.shares);
    const rows: Row[] = labels.map((l) => ({ cells: [l, pct(live.shares[l]), test?.kind === 'classes' ? pct(test.shares[l]) : '', pct(testActual?.[l])] }));
    const table = renderTable({ columns: [{ header: 'class' }, { header: 'live', align: 'right' }, { header: 'test predicted', align: 'right' }, { header: 'test actual', align: 'right' }], rows }, { color });
    return `predictions:\n${table}${shift === undefined ? '' : `shift from the test split's predictions (total variation distance): ${num(shift)}\n`}`;
  }
  if (live.kind === 'values') {
    const rows: Row[] = [{ cells: ['live', ...quantileCells(live.quantiles)] }, ...(test?.kind === 'values' ? [{ cells: ['test split', ...quantileCells(test.quantiles)] }] : [])];
    const columns = [{ header: 'predictions' }, ...['n', 'mean', 'p10', 'p50', 'p90'].map((header) => ({ header, align: 'right' as const }))];
    return renderTable({ columns, rows }, { color });
  }
  return '';
}

function performanceLine(r: MonitorReport): string {
  const p = r.performance;
  if (!p) return '';
  const name = p.metric === 'accuracy' ? 'accuracy' : 'MAE';
  const test = p.test === undefined ? '' : ` (test split: ${num(p.test)})`;
  if (p.value === undefined) return `live ${name}: no prediction of the period got a label yet (POST /feedback)${test}\n`;
  return `live ${name}: ${num(p.value)} over ${p.labeled} labeled row${p.labeled === 1 ? '' : 's'}${test}\n`;
}

function thresholdsText(r: MonitorReport): string {
  const t = r.thresholds;
  return [`--max-drift ${t.maxDrift}`, `--max-unknown ${t.maxUnknown}`, ...(t.minAccuracy === undefined ? [] : [`--min-accuracy ${t.minAccuracy}`]), ...(t.maxMae === undefined ? [] : [`--max-mae ${t.maxMae}`])].join(', ');
}

/** `mlpipe monitor`'s report: the period, the drift table, the prediction distribution, live accuracy, then the verdict. */
export function renderMonitorReport(r: MonitorReport, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const others = Object.entries(r.otherVersions).map(([v, n]) => `${n} of ${v}`);
  const head = [
    `${r.ref} (v${r.version}): ${r.rows} logged prediction${r.rows === 1 ? '' : 's'} from ${r.since} to ${r.until}${r.performance ? `, ${r.performance.labeled} with a label` : ''}`,
    ...(others.length > 0 ? [`left out: ${others.join(', ')}`] : []),
  ].join('\n');
  const parts = [head, driftTable(r, color), predictionsTable(r, color), performanceLine(r)].filter((p) => p !== '');
  const verdict = r.healthy
    ? paint(`healthy: no threshold crossed (${thresholdsText(r)})`, ['green'], color)
    : r.reasons.map((reason) => paint(`retrain: ${reason}`, ['red', 'bold'], color)).join('\n');
  const notes = r.notes.map((n) => `note: ${n}`).join('\n');
  return `${parts.map((p) => p.replace(/\n$/, '')).join('\n\n')}\n\n${verdict}\n${notes ? `${notes}\n` : ''}`;
}

/** The lines to print on stderr in JSON mode, so a CI log still says why. */
export function retrainLines(r: MonitorReport): string[] {
  return r.reasons.map((reason) => `retrain: ${reason}`);
}
