import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactRecord, MetricPoint } from '../tracker/types.js';

/** Counts by actual (rows) and predicted (columns) class. */
export interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
}

const KEYS = ['confusion_matrix', 'confusionMatrix'];
const METRIC_KEY = /^(?:.*\.)?confusion_?matrix\.(\d+)\.(\d+)$/i;

/**
 * The confusion matrix of a run's classification stage, found either in a JSON artifact (a `.json`
 * file, or a folder's `metrics.json`) that is `{ labels, matrix }` itself or holds `confusion_matrix`
 * as `number[][]` or `{ labels, matrix }` (labels may also sit beside it as `labels` or `classes`), or in final metrics
 * flattened as `confusion_matrix.<actual>.<predicted>`. The evaluation stage's artifacts are tried first.
 */
export function findConfusionMatrix(points: readonly MetricPoint[], artifacts: readonly ArtifactRecord[]): { stage: string; matrix: ConfusionMatrix } | undefined {
  const rank = (a: ArtifactRecord) => Number(/^eval/i.test(a.stage)) * 2 + Number(/confusion/i.test(a.name));
  const ordered = [...artifacts].sort((a, b) => rank(b) - rank(a));
  for (const a of ordered) {
    const found = fromJsonFile(a.path);
    if (found) return { stage: a.stage, matrix: found };
  }
  const cells = new Map<string, { a: number; p: number; v: number }[]>();
  for (const pt of points) {
    const m = pt.step === null ? METRIC_KEY.exec(pt.key) : null;
    if (!m) continue;
    const list = cells.get(pt.stage) ?? [];
    list.push({ a: Number(m[1]), p: Number(m[2]), v: pt.value });
    cells.set(pt.stage, list);
  }
  for (const [stage, list] of cells) {
    const k = Math.max(...list.map((c) => Math.max(c.a, c.p))) + 1;
    const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (const c of list) matrix[c.a][c.p] = c.v;
    return { stage, matrix: { labels: matrix.map((_, i) => String(i)), matrix } };
  }
  return undefined;
}

function fromJsonFile(path: string): ConfusionMatrix | undefined {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'metrics.json');
    else if (!path.endsWith('.json')) return undefined;
    if (statSync(file).size > 8 << 20) return undefined;
    return parseMatrix(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** A confusion matrix from a parsed metrics document, when it has one that is square and numeric. */
export function parseMatrix(doc: unknown): ConfusionMatrix | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const o = doc as Record<string, unknown>;
  const raw = KEYS.map((k) => o[k]).find((v) => v !== undefined) ?? (isSquare(o.matrix) ? o : undefined);
  const inner = raw && !Array.isArray(raw) && typeof raw === 'object' ? (raw as Record<string, unknown>) : undefined;
  const matrix = inner ? inner.matrix : raw;
  if (!isSquare(matrix)) return undefined;
  const labels = [inner?.labels, o.labels, o.classes].find((l): l is unknown[] => Array.isArray(l) && l.length === matrix.length);
  return { labels: labels ? labels.map(String) : matrix.map((_, i) => String(i)), matrix };
}

function isSquare(m: unknown): m is number[][] {
  return Array.isArray(m) && m.length > 0 && m.every((r) => Array.isArray(r) && r.length === m.length && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
}
