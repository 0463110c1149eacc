import { canonicalJson } from '../../core/hash/canonical-json.js';
import type { RunRecord, RunStatus, StageRunRecord } from '../../core/tracker/types.js';
import { flattenParams, type Comparison, type MetricRow } from './build-comparison.js';
import { resolveMetricName, type Direction } from './metric-names.js';
import { metricKeyOf, metricStageOf } from '../../core/tracker/metric-name.js';

/** One swept setting: `params.lr` or a stage key such as `train.batch_size`, with its values in grid order. */
export interface GridAxis {
  name: string;
  values: unknown[];
}

/** One point of the grid: a run, its settings on each axis and its metrics. */
export interface GridPoint {
  run: string;
  shortId: string;
  status: RunStatus;
  /** Axis name → value; absent when unknown (a stage that failed records no config). */
  settings: Record<string, unknown>;
  /** The shown metrics (`SweepView.columns`) → value, null when the run has none. */
  metrics: Record<string, number | null>;
  /** The objective's value. */
  value: number | null;
  best: boolean;
  /** The epoch at which a model-based search (`run --search asha`) stopped this trial (its run's `pruned` tag); null when it was not pruned. */
  pruned: number | null;
}

/** `compare runs --sweep`: the sweep's points as a grid, the objective and the best point(s). */
export interface SweepView {
  sweepId: string;
  pipeline: string;
  axes: GridAxis[];
  /** The metric that ranks the points: `--sort`, else the first `--metric`, else a headline evaluation metric. */
  objective: { name: string; direction: Direction } | null;
  /**
   * Where the default objective comes from: `validation` (a `val_*` metric, the default when a train
   * stage logged one), `test` (an evaluate metric: no validation metric was logged, so the points are
   * ranked on held-out test data), `other` (a metric of another stage, e.g. a shell stage's), or
   * `chosen` (--sort or --metric named it).
   */
  selectedOn: 'validation' | 'test' | 'chosen' | 'other';
  /** The headline metric of the evaluate stage (test data), shown beside a validation objective; null when there is none or it is the objective. */
  test: string | null;
  /** The metrics shown per point, objective first. */
  columns: string[];
  /** In grid order (first axis slowest), or best-first with `--sort`. */
  points: GridPoint[];
  /** Run ids of the best points (ties share); empty when fewer than two points differ. */
  best: string[];
  /** Points whose run did not complete. */
  failed: number;
}

/** What the sweep view is built from, besides the comparison. */
export interface SweepViewInput {
  sweepId: string;
  runs: readonly RunRecord[];
  /** Each run's stage records (their key material holds the resolved stage configs). */
  stageRuns: ReadonlyMap<string, readonly StageRunRecord[]>;
  /** Rank by this metric (`--sort`); the comparison is then already ordered by it. */
  sort?: string;
  /** `--metric` names: the shown columns. */
  metrics?: readonly string[];
}

const PREFERRED = ['accuracy', 'f1', 'auc', 'r2', 'rmse', 'mae', 'mse', 'log_loss', 'loss'];
const MAX_COLUMNS = 3;

/** Builds the grid view of a sweep from its runs and their comparison: pure. */
export function buildSweepView(c: Comparison, input: SweepViewInput): SweepView {
  const inSweep = new Set(input.runs.map((r) => r.id));
  const record = new Map(input.runs.map((r) => [r.id, r]));
  const runs = c.runs.filter((r) => inSweep.has(r.id));
  const settings = runs.map((r) => settingsOf(record.get(r.id)!, input.stageRuns.get(r.id) ?? []));
  const axes = findAxes(settings);
  const names = c.metrics.map((m) => m.name);
  const chosen = input.sort !== undefined || (input.metrics?.length ?? 0) > 0;
  const validation = chosen ? undefined : validationHeadline(names);
  const testName = headline(names.filter((n) => !isValidationMetric(n)));
  const objectiveName = input.sort ? resolveMetricName(input.sort, names, '--sort metric') : input.metrics?.length ? resolveMetricName(input.metrics[0], names) : (validation ?? testName);
  const objective = c.metrics.find((m) => m.name === objectiveName);
  const test = validation && testName && testName !== objectiveName ? testName : null;
  const columns = pickColumns(c.metrics, objective, chosen, test);
  const index = new Map(c.runs.map((r, i) => [r.id, i]));
  const valueOf = (m: MetricRow | undefined, runId: string) => (m ? m.values[index.get(runId)!] : null);
  let points: GridPoint[] = runs.map((r, i) => ({
    run: r.id,
    shortId: r.shortId,
    status: r.status,
    settings: Object.fromEntries(axes.filter((a) => a.name in settings[i]).map((a) => [a.name, settings[i][a.name]])),
    metrics: Object.fromEntries(columns.map((name) => [name, valueOf(c.metrics.find((m) => m.name === name), r.id)])),
    value: valueOf(objective, r.id),
    best: false,
    pruned: prunedEpoch(record.get(r.id)!),
  }));
  if (!input.sort) points = [...points].sort((a, b) => compareSettings(a.settings, b.settings, axes));
  const best = objective ? bestPoints(points, objective.direction) : [];
  for (const p of points) p.best = best.includes(p.run);
  return {
    sweepId: input.sweepId,
    pipeline: runs[0]?.pipeline ?? '',
    axes,
    objective: objective ? { name: objective.name, direction: objective.direction } : null,
    selectedOn: chosen ? 'chosen' : validation ? 'validation' : objective && isEvaluateMetric(objective.name, input.stageRuns) ? 'test' : 'other',
    test,
    columns,
    points,
    best,
    failed: points.filter((p) => p.status !== 'completed').length,
  };
}

/** A run's settings by axis-style name: `params.lr`, and `stage.key` from each stage's resolved config. */
function settingsOf(run: RunRecord, stages: readonly StageRunRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = flattenParams(run.params ?? {}, 'params');
  for (const s of stages) {
    const config = (s.keyMaterial as { config?: unknown } | null | undefined)?.config;
    if (config && typeof config === 'object' && !Array.isArray(config)) Object.assign(out, flattenParams(config as Record<string, unknown>, s.stage));
  }
  return out;
}

/**
 * The names whose values differ between points, params first. A stage key that follows from the
 * axes already found (`train.optimizer.learning_rate` set from `params.lr`, a shell command with
 * params in it) is left out.
 */
function findAxes(settings: readonly Record<string, unknown>[]): GridAxis[] {
  const names = [...new Set(settings.flatMap((s) => Object.keys(s)))];
  const varying = names.filter((n) => new Set(settings.filter((s) => n in s).map((s) => canonicalJson(s[n] ?? null))).size > 1);
  const params = varying.filter((n) => n.startsWith('params.')).sort();
  const stageKeys = varying.filter((n) => !n.startsWith('params.')).sort();
  const kept = [...params];
  for (const n of stageKeys) if (!isDetermined(settings, kept, n)) kept.push(n);
  return kept.map((name) => {
    const values = new Map<string, unknown>();
    for (const s of settings) if (name in s) values.set(canonicalJson(s[name] ?? null), s[name]);
    return { name, values: [...values.values()].sort(compareValues) };
  });
}

/** Whether points that agree on every axis in `by` always agree on `name` too (where both know it). */
function isDetermined(settings: readonly Record<string, unknown>[], by: readonly string[], name: string): boolean {
  const seen = new Map<string, string>();
  for (const s of settings) {
    if (!(name in s) || by.some((k) => !(k in s))) continue;
    const group = canonicalJson(by.map((k) => s[k] ?? null));
    const value = canonicalJson(s[name] ?? null);
    if ((seen.get(group) ?? value) !== value) return false;
    seen.set(group, value);
  }
  return true;
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const ja = canonicalJson(a ?? null);
  const jb = canonicalJson(b ?? null);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

function compareSettings(a: Record<string, unknown>, b: Record<string, unknown>, axes: readonly GridAxis[]): number {
  for (const { name } of axes) {
    if (!(name in a) || !(name in b)) {
      if (name in a || name in b) return name in a ? -1 : 1;
      continue;
    }
    const d = compareValues(a[name], b[name]);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether a metric comes from an evaluate stage (by its recorded kind, else a stage named eval…): test-split data by default. */
function isEvaluateMetric(name: string, stageRuns: ReadonlyMap<string, readonly StageRunRecord[]>): boolean {
  const stage = metricStageOf(name);
  for (const records of stageRuns.values()) for (const r of records) if (r.stage === stage) return r.kind === 'evaluate';
  return /^eval/i.test(stage);
}

/** `train.val_accuracy`: a metric computed on validation data during training. */
function isValidationMetric(name: string): boolean {
  return metricKeyOf(name).startsWith('val_');
}

/** The validation form of the first PREFERRED metric a stage logged (`train.val_accuracy`, `train.val_auc`, … `train.val_loss`), or undefined. */
function validationHeadline(names: readonly string[]): string | undefined {
  for (const key of PREFERRED) {
    const hit = names.find((n) => metricKeyOf(n) === `val_${key}`);
    if (hit) return hit;
  }
  return names.find(isValidationMetric);
}

/** An evaluation stage's accuracy, f1, … (the first of PREFERRED it has), else any stage's, else an evaluation metric, else the first. */
function headline(names: readonly string[]): string | undefined {
  const evals = names.filter((n) => /^eval/i.test(n));
  for (const pool of [evals, names]) for (const key of PREFERRED) {
    const hit = pool.find((n) => metricKeyOf(n) === key);
    if (hit) return hit;
  }
  return evals[0] ?? names[0];
}

/** The objective, then (unless `--metric` chose them) the test headline beside a validation objective, else the objective stage's other metrics, PREFERRED ones first, up to MAX_COLUMNS. */
function pickColumns(metrics: readonly MetricRow[], objective: MetricRow | undefined, chosen: boolean, test: string | null): string[] {
  if (chosen) return [...(objective ? [objective.name] : []), ...metrics.filter((m) => m !== objective).map((m) => m.name)];
  if (!objective) return [];
  if (test) return [objective.name, test];
  const stage = metricStageOf(objective.name);
  const rank = (n: string) => {
    const i = PREFERRED.indexOf(metricKeyOf(n));
    return i < 0 ? PREFERRED.length : i;
  };
  const others = metrics
    .map((m) => m.name)
    .filter((n) => n !== objective.name && metricStageOf(n) === stage)
    .sort((a, b) => rank(a) - rank(b));
  return [objective.name, ...others].slice(0, MAX_COLUMNS);
}

/** The `pruned=EPOCH` tag a search trial's run got, as a number. */
function prunedEpoch(run: RunRecord): number | null {
  const tag = run.tags?.pruned;
  return tag !== undefined && /^\d+$/.test(tag) ? Number(tag) : null;
}

/** The points with the best objective value; trials a search pruned compete only when no trial ran to the end. */
function bestPoints(points: readonly GridPoint[], direction: Direction): string[] {
  const valued = points.filter((p): p is GridPoint & { value: number } => p.value !== null);
  const present = valued.some((p) => p.pruned === null) ? valued.filter((p) => p.pruned === null) : valued;
  if (valued.length < 2) return [];
  const best = direction === 'higher' ? Math.max(...present.map((p) => p.value)) : Math.min(...present.map((p) => p.value));
  if (present.length === valued.length && present.every((p) => p.value === best)) return [];
  return present.filter((p) => p.value === best).map((p) => p.run);
}
