import type { MetricPoint } from '../../core/tracker/types.js';
import { evaluationStageFirst } from './importance.js';

/** One value of a slice column as a run recorded it: its rows (`n`, null when not recorded) and metrics. */
export interface SliceValueRow {
  /** The value as it appears in metric keys (`Biscoe_Island`, `_missing`). */
  value: string;
  n: number | null;
  metrics: Record<string, number>;
}

/** A slice column (evaluate `slices`): its values, the metric names any value has (sorted), and each metric's gap. */
export interface SliceTable {
  column: string;
  metrics: string[];
  values: SliceValueRow[];
  gaps: Record<string, number>;
}

/** `slices.<column>.<rest>`: the column and value parts have no dots (metric-key.ts), a metric name may. */
const KEY = /^slices\.([^.]+)\.(.+)$/;

/** Whether a metric key (no stage) is a slice metric: `slices.<column>.<value>.<metric>` or `slices.<column>.<metric>_gap`. */
export function isSliceKey(key: string): boolean {
  const m = KEY.exec(key);
  return m !== null && (m[2]!.includes('.') || m[2]!.endsWith('_gap'));
}

/**
 * The slice metrics a run recorded, per column: final metrics `slices.<column>.<value>.<metric>`
 * (`.n` the rows) and `slices.<column>.<metric>_gap`, of one stage (an evaluation stage first),
 * columns and values by name; undefined when the run has none.
 */
export function findSlices(points: readonly MetricPoint[]): { stage: string; columns: SliceTable[] } | undefined {
  const byStage = new Map<string, Map<string, SliceTable>>();
  for (const p of points) {
    const m = p.step === null && isSliceKey(p.key) ? KEY.exec(p.key) : null;
    if (!m) continue;
    const columns = byStage.get(p.stage) ?? new Map<string, SliceTable>();
    byStage.set(p.stage, columns);
    const table = columns.get(m[1]!) ?? { column: m[1]!, metrics: [], values: [], gaps: {} };
    columns.set(m[1]!, table);
    const rest = m[2]!;
    const dot = rest.indexOf('.');
    if (dot < 0) {
      table.gaps[rest.slice(0, -'_gap'.length)] = p.value;
      continue;
    }
    const value = rest.slice(0, dot);
    const metric = rest.slice(dot + 1);
    let row = table.values.find((v) => v.value === value);
    if (!row) table.values.push((row = { value, n: null, metrics: {} }));
    if (metric === 'n') row.n = p.value;
    else row.metrics[metric] = p.value;
  }
  const stage = evaluationStageFirst(byStage.keys());
  if (stage === undefined) return undefined;
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const columns = [...byStage.get(stage)!.values()].sort((a, b) => byName(a.column, b.column));
  for (const t of columns) {
    t.values.sort((a, b) => byName(a.value, b.value));
    t.metrics = [...new Set([...t.values.flatMap((v) => Object.keys(v.metrics)), ...Object.keys(t.gaps)])].sort(byName);
  }
  return { stage, columns };
}
