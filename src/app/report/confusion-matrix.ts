import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../../core/store/types.js';
import type { ArtifactRecord, MetricPoint } from '../../core/tracker/types.js';

/** Counts by actual (rows) and predicted (columns) class. */
export interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
}

const KEYS = ['confusion_matrix', 'confusionMatrix'];
const METRIC_KEY = /^(?:.*\.)?confusion_?matrix\.(\d+)\.(\d+)$/i;
const MAX_JSON = 8 << 20;

/** Reads an artifact's JSON document (a `.json` file, or a folder's `metrics.json`); undefined when it cannot. */
export type ArtifactJsonReader = (artifact: ArtifactRecord) => Promise<unknown>;

/** Reads the artifact where the run left it (its run folder or workspace path). */
export const readArtifactFile: ArtifactJsonReader = async (a) => fromJsonFile(a.path);

/**
 * The confusion matrix of a run's classification stage. The tracker's run data comes first: final
 * metrics `confusion_matrix.<actual>.<predicted>` (what the evaluate stage records, and what a shell
 * stage's metrics file with a `confusion_matrix` array flattens to), the evaluation stage's before
 * others; class labels are then taken from that stage's JSON artifact when one can still be read
 * (`read`: from the run folder by default, or from the cache), else they are the class indexes.
 * Runs recorded before matrices were run data fall back to the JSON artifact itself: a `.json` file or
 * a folder's `metrics.json` that is `{ labels, matrix }` or holds `confusion_matrix` as `number[][]`
 * or `{ labels, matrix }` (labels may also sit beside it as `labels` or `classes`).
 */
export async function findConfusionMatrix(
  points: readonly MetricPoint[],
  artifacts: readonly ArtifactRecord[],
  read: ArtifactJsonReader = readArtifactFile,
): Promise<{ stage: string; matrix: ConfusionMatrix } | undefined> {
  const rank = (a: ArtifactRecord) => Number(/^eval/i.test(a.stage)) * 2 + Number(/confusion/i.test(a.name));
  const ordered = [...artifacts].sort((a, b) => rank(b) - rank(a));
  const fromArtifacts = async (stage?: string): Promise<{ stage: string; matrix: ConfusionMatrix } | undefined> => {
    for (const a of ordered) {
      if (stage !== undefined && a.stage !== stage) continue;
      const found = parseMatrix(await read(a).catch(() => undefined));
      if (found) return { stage: a.stage, matrix: found };
    }
    return undefined;
  };
  const cells = new Map<string, { a: number; p: number; v: number }[]>();
  for (const pt of points) {
    const m = pt.step === null ? METRIC_KEY.exec(pt.key) : null;
    if (!m) continue;
    const list = cells.get(pt.stage) ?? [];
    list.push({ a: Number(m[1]), p: Number(m[2]), v: pt.value });
    cells.set(pt.stage, list);
  }
  const stages = [...cells.keys()].sort((x, y) => Number(/^eval/i.test(y)) - Number(/^eval/i.test(x)));
  const stage = stages[0];
  if (stage === undefined) return fromArtifacts();
  const list = cells.get(stage)!;
  const k = Math.max(...list.map((c) => Math.max(c.a, c.p))) + 1;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const c of list) matrix[c.a][c.p] = c.v;
  const file = await fromArtifacts(stage);
  const labels = file && file.matrix.labels.length === k ? file.matrix.labels : matrix.map((_, i) => String(i));
  return { stage, matrix: { labels, matrix } };
}

function fromJsonFile(path: string): unknown {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'metrics.json');
    else if (!path.endsWith('.json')) return undefined;
    if (statSync(file).size > MAX_JSON) return undefined;
    return JSON.parse(readFileSync(file, 'utf8'));
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

/**
 * Reads an artifact from its run folder, else from the cache store by its digest (a CI job that
 * keeps `runs/cache` but not the run folders still finds the labels).
 */
export function cacheArtifactReader(store: Pick<ObjectStore, 'has' | 'get'>): ArtifactJsonReader {
  return async (a) => {
    const local = fromJsonFile(a.path);
    if (local !== undefined || !a.path.endsWith('.json') || a.size > MAX_JSON || !(await store.has(a.hash))) return local;
    const dir = await mkdtemp(join(tmpdir(), 'mlpipe-artifact-'));
    try {
      const file = join(dir, 'doc.json');
      await store.get(a.hash, file, { size: a.size, verify: true });
      return JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return undefined;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
