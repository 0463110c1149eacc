import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { ModelVersion, Tracker } from '../../core/tracker/types.js';
import { classShares, quantiles } from './distribution.js';
import type { LivePerformance, PredictionDistribution } from './live-summary.js';

/** What the version's evaluate stage saw on the test split: its predictions' distribution and its accuracy or MAE. */
export interface TestReference {
  /** The predictions.csv it was read from. */
  file: string;
  rows: number;
  predictions: PredictionDistribution;
  /** Classification: the true labels' shares on the split. */
  actualShares?: Record<string, number>;
  performance: Required<LivePerformance>;
}

/**
 * The test-split reference of `version`: the predictions.csv an evaluate stage of the run that
 * registered it wrote (`actual`, `predicted` columns). Undefined when the run has none on disk
 * (a multi-target model, a shell-stage model, or run folders removed).
 */
export async function readTestReference(tracker: Pick<Tracker, 'getArtifacts' | 'getStageRuns'>, version: ModelVersion, labels: readonly string[] | undefined): Promise<TestReference | undefined> {
  const evaluates = new Set((await tracker.getStageRuns(version.runId)).filter((s) => s.kind === 'evaluate').map((s) => s.stage));
  const file = (await tracker.getArtifacts(version.runId)).find((a) => evaluates.has(a.stage) && a.name === 'predictions' && existsSync(a.path))?.path;
  if (!file) return undefined;
  const rows = parse(await readFile(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  if (rows.length === 0 || !('actual' in rows[0]!) || !('predicted' in rows[0]!)) return undefined;
  return referenceOf(file, rows, labels);
}

/** The reference figures of predictions.csv rows (exported for tests). */
export function referenceOf(file: string, rows: readonly Record<string, string>[], labels: readonly string[] | undefined): TestReference {
  const regression = 'error' in rows[0]!;
  if (regression) {
    const predicted = rows.map((r) => Number(r.predicted));
    const mae = rows.reduce((s, r) => s + Math.abs(Number(r.predicted) - Number(r.actual)), 0) / rows.length;
    return { file, rows: rows.length, predictions: { kind: 'values', quantiles: quantiles(predicted) }, performance: { metric: 'mae', labeled: rows.length, value: mae } };
  }
  const count = (key: 'actual' | 'predicted') => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(r[key]!, (m.get(r[key]!) ?? 0) + 1);
    return m;
  };
  const order = labels ?? [...new Set(rows.map((r) => r.actual!))].sort();
  const correct = rows.filter((r) => r.actual === r.predicted).length;
  return {
    file,
    rows: rows.length,
    predictions: { kind: 'classes', shares: classShares(count('predicted'), order) },
    actualShares: classShares(count('actual'), order),
    performance: { metric: 'accuracy', labeled: rows.length, value: correct / rows.length },
  };
}
