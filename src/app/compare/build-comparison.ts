import { canonicalJson } from '../../core/hash/canonical-json.js';
import { CONFUSION_KEY } from '../../core/tracker/confusion-cells.js';
import type { MetricPoint, RunRecord, RunStatus, Tracker } from '../../core/tracker/types.js';
import { directionOf, isRanked, resolveMetricName, specDirections, type Direction } from './metric-names.js';
import { shortIds } from './resolve-run.js';

/** One run's record and every metric point it logged. */
export interface RunData {
  run: RunRecord;
  points: MetricPoint[];
}

/** A compared run; the table has one column per run, in this order. */
export interface ComparedRun {
  id: string;
  shortId: string;
  pipeline: string;
  status: RunStatus;
  startedAt: number;
  durationMs: number | null;
  isBaseline: boolean;
  /** `run --name`; null when unnamed. */
  name: string | null;
  /** The run's tags (mlpipe's own `mlpipe.*` ones left out). */
  tags: Record<string, string>;
  /** `runs note`; null when none. */
  note: string | null;
  /** Set when the run is deleted (it was named explicitly). */
  deletedAt: number | null;
}

/** A param across the runs; `values[i]` belongs to `runs[i]` (null: the run has no such param). */
export interface ParamRow {
  name: string;
  values: unknown[];
  changed: boolean;
}

/** A final metric (`stage.key`) across the runs, with deltas against the baseline and the best runs. */
export interface MetricRow {
  name: string;
  direction: Direction;
  /** false for counts (`train.epochs`, `deploy.version`): deltas shown, no ▲/▼ and no best. */
  ranked: boolean;
  values: (number | null)[];
  /** value − baseline value; null for the baseline itself or when either is missing. */
  deltas: (number | null)[];
  /** Indexes into `runs` of the best value (ties share it); empty unless two or more runs differ. */
  best: number[];
}

/** A per-step metric (learning curve) across the runs: `points[i]` are `runs[i]`'s points by step. */
export interface CurveRow {
  name: string;
  direction: Direction;
  points: { step: number; value: number }[][];
}

/** The comparison model every renderer (table, markdown, csv, json, html) reads. Versioned JSON. */
export interface Comparison {
  schemaVersion: 1;
  baseline: string;
  runs: ComparedRun[];
  params: ParamRow[];
  metrics: MetricRow[];
  curves: CurveRow[];
}

export interface ComparisonOptions {
  /** The baseline run's id; it must be among the runs. Default: the first run. */
  baseline?: string;
  /** Only these metrics (full `stage.key` or an unambiguous bare key). */
  metrics?: string[];
  /** Order the runs best-first by this metric (missing values last). */
  sort?: string;
  /** Only params whose values differ between runs. */
  onlyChanged?: boolean;
  /** Metric directions overriding the name rule; default: each run's spec `metrics:` block. */
  directions?: Record<string, Direction>;
  /** Every run id in the tracker, so short ids stay unambiguous beyond the compared runs. */
  allIds?: readonly string[];
}

/** Confusion-matrix cells flattened into metrics (`confusion_matrix.0.1`): shown as a chart by the report, not as rows. */
export const CONFUSION = CONFUSION_KEY;

/** Reads the runs and their metric points from the tracker, in the given order. */
export async function loadRuns(tracker: Tracker, ids: readonly string[]): Promise<RunData[]> {
  return Promise.all(ids.map(async (id) => ({ run: (await tracker.getRun(id))!, points: await tracker.getMetrics(id) })));
}

/** Builds the comparison model: pure, given the loaded runs. */
export function buildComparison(data: readonly RunData[], opts: ComparisonOptions = {}): Comparison {
  const directions = opts.directions ?? collectSpecDirections(data);
  const finals: Map<string, number>[] = [];
  const curveMaps: Map<string, { step: number; value: number }[]>[] = [];
  const finalNames: string[] = [];
  const curveNames: string[] = [];
  const kindOf = new Map<string, 'final' | 'curve' | 'both' | 'skip'>();
  const note = (name: string, kind: 'final' | 'curve') => {
    const seen = kindOf.get(name);
    if (seen === kind || seen === 'both' || seen === 'skip') return seen !== 'skip';
    if (seen === undefined && CONFUSION.test(name)) {
      kindOf.set(name, 'skip');
      return false;
    }
    kindOf.set(name, seen === undefined ? kind : 'both');
    (kind === 'final' ? finalNames : curveNames).push(name);
    return true;
  };
  for (const { points } of data) {
    const f = new Map<string, number>();
    const c = new Map<string, { step: number; value: number }[]>();
    for (const p of points) {
      const name = `${p.stage}.${p.key}`;
      if (!note(name, p.step === null ? 'final' : 'curve')) continue;
      if (p.step === null) f.set(name, p.value);
      else {
        const list = c.get(name);
        if (list) list.push({ step: p.step, value: p.value });
        else c.set(name, [{ step: p.step, value: p.value }]);
      }
    }
    for (const [name, list] of c) c.set(name, normalizeSteps(list));
    finals.push(f);
    curveMaps.push(c);
  }
  let order = data.map((_, i) => i);
  if (opts.sort) {
    const name = resolveMetricName(opts.sort, finalNames, '--sort metric');
    const dir = directionOf(name, directions);
    const value = (i: number) => finals[i].get(name);
    order = [...order].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? 0 : 1) : -1;
      return dir === 'higher' ? vb - va : va - vb;
    });
  }
  const baselineId = opts.baseline ?? data[0]?.run.id;
  const baseIndex = order.findIndex((i) => data[i].run.id === baselineId);
  const short = shortIds(data.map((d) => d.run.id), opts.allIds);
  const runs: ComparedRun[] = order.map((i) => {
    const r = data[i].run;
    return {
      id: r.id,
      shortId: short.get(r.id)!,
      pipeline: r.pipeline,
      status: r.status,
      startedAt: r.startedAt,
      durationMs: r.endedAt ? r.endedAt - r.startedAt : null,
      isBaseline: r.id === baselineId,
      name: r.name ?? null,
      tags: Object.fromEntries(Object.entries(r.tags ?? {}).filter(([k]) => !k.startsWith('mlpipe.'))),
      note: r.note ?? null,
      deletedAt: r.deletedAt ?? null,
    };
  });
  let selectedFinal = finalNames;
  let selectedCurve = curveNames;
  if (opts.metrics?.length) {
    const all = [...new Set([...finalNames, ...curveNames])];
    const wanted = new Set(opts.metrics.map((m) => resolveMetricName(m, all)));
    selectedFinal = finalNames.filter((n) => wanted.has(n));
    selectedCurve = curveNames.filter((n) => wanted.has(n));
  }
  const metrics = selectedFinal.map((name): MetricRow => {
    const direction = directionOf(name, directions);
    const values = order.map((i) => finals[i].get(name) ?? null);
    const base = baseIndex >= 0 ? values[baseIndex] : null;
    const deltas = values.map((v, i) => (i === baseIndex || v === null || base === null ? null : v - base));
    const ranked = isRanked(name, directions);
    return { name, direction, ranked, values, deltas, best: ranked ? bestOf(values, direction) : [] };
  });
  const curves = selectedCurve.map(
    (name): CurveRow => ({
      name,
      direction: directionOf(name, directions),
      points: order.map((i) => curveMaps[i].get(name) ?? []),
    }),
  );
  return { schemaVersion: 1, baseline: baselineId ?? '', runs, params: paramRows(order.map((i) => data[i].run.params), opts.onlyChanged), metrics, curves };
}

/** Points by ascending step; a step logged twice keeps its last value. */
function normalizeSteps(list: { step: number; value: number }[]): { step: number; value: number }[] {
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i].step > list[i - 1].step;
  if (ordered) return list;
  const byStep = new Map<number, number>();
  for (const p of list) byStep.set(p.step, p.value);
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }));
}

function bestOf(values: (number | null)[], direction: Direction): number[] {
  const present = values.filter((v): v is number => v !== null);
  if (present.length < 2) return [];
  const best = direction === 'higher' ? Math.max(...present) : Math.min(...present);
  if (present.every((v) => v === best)) return [];
  return values.flatMap((v, i) => (v === best ? [i] : []));
}

/** Nested params as dotted names (`model.units`); lists and other values kept whole. */
export function flattenParams(params: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) Object.assign(out, flattenParams(v as Record<string, unknown>, name));
    else out[name] = v;
  }
  return out;
}

function paramRows(all: Record<string, unknown>[], onlyChanged = false): ParamRow[] {
  const flat = all.map((p) => flattenParams(p ?? {}));
  const names = [...new Set(flat.flatMap((p) => Object.keys(p)))].sort();
  return names
    .map((name) => {
      const values = flat.map((p) => (name in p ? p[name] : null));
      const keys = values.map((v, i) => (name in flat[i] ? canonicalJson(v ?? null) : undefined));
      return { name, values, changed: new Set(keys).size > 1 };
    })
    .filter((r) => !onlyChanged || r.changed);
}

function collectSpecDirections(data: readonly RunData[]): Record<string, Direction> {
  const out: Record<string, Direction> = {};
  for (const path of [...new Set([...data].sort((a, b) => a.run.startedAt - b.run.startedAt).map((d) => d.run.specPath))]) Object.assign(out, specDirections(path));
  return out;
}
