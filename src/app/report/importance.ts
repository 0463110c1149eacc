import type { MetricPoint } from '../../core/tracker/types.js';

/** One feature's permutation importance as a run recorded it (evaluate `importance`). */
export interface ImportanceRow {
  feature: string;
  mean: number;
  std: number;
}

const KEY = /^importance\.(.+)\.(mean|std)$/;

/** Whether a metric key (no stage) is one of permutation importance's `importance.<feature>.mean|std`. */
export function isImportanceKey(key: string): boolean {
  return KEY.test(key);
}

/** The stage to show of those that recorded a group of metrics: an evaluation stage (`eval…`) first, then by name. */
export function evaluationStageFirst(stages: Iterable<string>): string | undefined {
  return [...stages].sort((a, b) => Number(/^eval/i.test(b)) - Number(/^eval/i.test(a)) || (a < b ? -1 : a > b ? 1 : 0))[0];
}

/**
 * The permutation importance a run recorded: final metrics `importance.<feature>.mean` and `.std`
 * of one stage (an evaluation stage, named `eval…`, before others), most important first (ties by
 * name); undefined when the run has none.
 */
export function findImportance(points: readonly MetricPoint[]): { stage: string; rows: ImportanceRow[] } | undefined {
  const byStage = new Map<string, Map<string, Partial<ImportanceRow>>>();
  for (const p of points) {
    const m = p.step === null ? KEY.exec(p.key) : null;
    if (!m) continue;
    const rows = byStage.get(p.stage) ?? new Map<string, Partial<ImportanceRow>>();
    byStage.set(p.stage, rows);
    const row = rows.get(m[1]!) ?? { feature: m[1]! };
    row[m[2] as 'mean' | 'std'] = p.value;
    rows.set(m[1]!, row);
  }
  const stage = evaluationStageFirst(byStage.keys());
  if (stage === undefined) return undefined;
  const rows = [...byStage.get(stage)!.values()]
    .filter((r): r is ImportanceRow => r.mean !== undefined)
    .map((r) => ({ feature: r.feature, mean: r.mean, std: r.std ?? 0 }))
    .sort((a, b) => b.mean - a.mean || (a.feature < b.feature ? -1 : 1));
  return rows.length ? { stage, rows } : undefined;
}
