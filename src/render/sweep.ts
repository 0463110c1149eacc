import type { Style } from './ansi.js';
import { formatCell } from './numbers.js';
import { renderCsv, renderMarkdown, renderTable, type Cell, type Row, type Table } from './table.js';
import type { Comparison } from '../app/compare/build-comparison.js';
import { describeFailures, type ConditionResult } from '../app/compare/fail-if.js';
import type { GridPoint, SweepView } from '../app/compare/sweep-view.js';

const BEST = '★';

/** One row per point: the axis values, the run, its status when any point did not complete, the metrics; best points marked. */
export function sweepTable(v: SweepView): Table {
  const withStatus = v.failed > 0 || v.points.some((p) => p.pruned !== null);
  const rows: Row[] = v.points.map((p) => ({
    cells: [
      ...v.axes.map((a) => formatCell(p.settings[a.name])),
      p.shortId,
      ...(withStatus ? [statusCell(p)] : []),
      ...v.columns.map((name, i) => metricCell(p, name, i === 0 && v.objective?.name === name)),
    ],
  }));
  return {
    columns: [...v.axes.map((a) => ({ header: a.name })), { header: 'run' }, ...(withStatus ? [{ header: 'status' }] : []), ...v.columns.map((header) => ({ header }))],
    rows,
  };
}

/** With exactly two axes and an objective: the objective as a matrix, first axis down, second across. */
export function sweepMatrix(v: SweepView): Table | undefined {
  if (v.axes.length !== 2 || !v.objective) return undefined;
  const [down, across] = v.axes;
  const key = (x: unknown) => JSON.stringify(x ?? null);
  const cell = (d: unknown, a: unknown): Cell => {
    const p = v.points.find((q) => key(q.settings[down.name]) === key(d) && key(q.settings[across.name]) === key(a));
    return p ? metricCell(p, v.objective!.name, true) : { text: '' };
  };
  return {
    columns: [{ header: `${down.name} ↓ ${across.name} →` }, ...across.values.map((a) => ({ header: formatCell(a) }))],
    rows: down.values.map((d) => ({ cells: [formatCell(d), ...across.values.map((a) => cell(d, a))] })),
  };
}

/** `completed`, `pruned @ epoch 3` (dim) or a failure (red). */
function statusCell(p: GridPoint): Cell {
  if (p.pruned !== null) return { text: `pruned @ epoch ${p.pruned}`, styles: ['dim'] };
  return { text: p.status, styles: p.status === 'completed' ? [] : ['red'] };
}

function metricCell(p: GridPoint, name: string, isObjective: boolean): Cell {
  const value = p.metrics[name] ?? (isObjective ? p.value : null);
  if (value === null || value === undefined) return { text: '' };
  const best = isObjective && p.best;
  return { text: `${formatCell(value)}${best ? ` ${BEST}` : ''}`, styles: best ? (['bold', 'green'] as Style[]) : [] };
}

/** `sweep s-1a2b3c4d of iris: 6 points, 1 failed; best by evaluate.accuracy (higher is better): r-0a1b2c3d (params.lr=0.01) = 0.9667`; ties add `(and N more tied)`. */
export function sweepHeadline(v: SweepView): string {
  const pruned = v.points.filter((p) => p.pruned !== null).length;
  const count = `${v.points.length} point${v.points.length === 1 ? '' : 's'}${v.failed ? `, ${v.failed} failed` : ''}${pruned ? `, ${pruned} pruned` : ''}`;
  const head = `sweep ${v.sweepId} of ${v.pipeline}: ${count}`;
  if (!v.objective) return `${head}; no final metrics to rank the points by`;
  const by = `${v.objective.name} (${v.objective.direction} is better${v.selectedOn === 'validation' ? ', validation data' : ''})`;
  const best = v.points.filter((p) => p.best);
  if (best.length === 0) return `${head}; ${v.points.filter((p) => p.value !== null).length < 2 ? 'too few points have' : 'every point has the same'} ${by}`;
  const describe = (p: GridPoint) => {
    const set = v.axes.filter((a) => a.name in p.settings).map((a) => `${a.name}=${formatCell(p.settings[a.name])}`);
    return `${p.shortId}${set.length ? ` (${set.join(', ')})` : ''}`;
  };
  const tied = best.length > 1 ? ` (and ${best.length - 1} more tied)` : '';
  const testValue = v.test ? best[0].metrics[v.test] : undefined;
  const test = v.test && testValue !== undefined && testValue !== null ? `; its ${v.test} (test) = ${formatCell(testValue)}` : '';
  const warn = v.selectedOn === 'test' ? ' (no validation metric was logged: this ranks on test data; log val_* metrics in train to select on validation)' : '';
  return `${head}; best by ${by}: ${describe(best[0])}${tied} = ${formatCell(best[0].value)}${test}${warn}`;
}

/** The sweep as terminal text or markdown: headline, the point table, the matrix for two axes; `--fail-if` results after. */
export function renderSweep(v: SweepView, c: Comparison, format: 'table' | 'markdown', opts: { color?: boolean; conditions?: ConditionResult[] } = {}): string {
  const matrix = sweepMatrix(v);
  if (format === 'table') {
    const parts = [`${sweepHeadline(v)}\n\n`, renderTable(sweepTable(v), { color: opts.color, indent: '  ' })];
    if (matrix) parts.push(`\n  ${v.objective!.name}\n`, renderTable(matrix, { color: opts.color, indent: '  ' }));
    parts.push(`${BEST} best ${v.objective?.name ?? ''}`.trimEnd() + '\n');
    return parts.join('');
  }
  const parts = [`#### mlpipe ${sweepHeadline(v)}\n\n`, renderMarkdown(sweepTable(v))];
  if (matrix) parts.push(`\n**${v.objective!.name}**\n\n`, renderMarkdown(matrix));
  for (const r of opts.conditions ?? []) parts.push(`\n- ${r.holds ? '❌' : '✅'} \`--fail-if ${r.expression}\` ${r.holds ? 'holds' : 'does not hold'}`);
  const failures = describeFailures(opts.conditions ?? [], c);
  if (failures.length) parts.push(`\n\n${failures.map((f) => `> ${f}`).join('\n')}`);
  return `${parts.join('')}\n`.replace(/\n\n+$/, '\n');
}

/** One row per point: run, status, best, each axis, then every final metric of the comparison (raw values). */
export function sweepCsv(v: SweepView, c: Comparison): string {
  const index = new Map(c.runs.map((r, i) => [r.id, i]));
  const header = ['run', 'status', 'best', ...v.axes.map((a) => a.name), ...c.metrics.map((m) => m.name)];
  const rows = v.points.map((p) => [
    p.run,
    p.status,
    p.best ? 'true' : 'false',
    ...v.axes.map((a) => {
      const x = p.settings[a.name];
      return typeof x === 'object' && x !== null ? JSON.stringify(x) : (x as string | number | null | undefined);
    }),
    ...c.metrics.map((m) => m.values[index.get(p.run)!]),
  ]);
  return renderCsv([header, ...rows]);
}
