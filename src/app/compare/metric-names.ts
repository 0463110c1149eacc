import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError } from '../../errors.js';
import { metricKeyOf, splitMetricName } from '../../core/tracker/metric-name.js';

/** Whether a bigger value of a metric is an improvement. */
export type Direction = 'higher' | 'lower';

const LOWER_WORDS = new Set(['loss', 'error', 'mse', 'mae', 'rmse', 'log_loss', 'logloss', 'mape', 'msle']);

/**
 * `higher` unless the metric's key names an error or a loss: its last dotted part is, or has an
 * `_`-separated word that is, loss, error, mse, mae, rmse or log_loss (`val_loss`, `mean_squared_error`).
 * `overrides` (from the spec's `metrics:` block) win, looked up by `stage.key`, then by `key`.
 */
export function directionOf(name: string, overrides: Readonly<Record<string, Direction>> = {}): Direction {
  const key = name.slice(name.lastIndexOf('.') + 1);
  const bare = metricKeyOf(name);
  const set = overrides[name] ?? overrides[bare] ?? overrides[key];
  if (set) return set;
  const lower = key.toLowerCase();
  return LOWER_WORDS.has(lower) || lower.split('_').some((w) => LOWER_WORDS.has(w)) || lower.endsWith('loss') ? 'lower' : 'higher';
}

/** Counts and bookkeeping (rows, epochs run, a registered version): shown and diffed, never ranked. */
const INFORMATIONAL = /^(version|epochs|best_epoch|rows|rows_read|dropped|classes|inputs|(train|validation|test)_rows)$/;

/**
 * Whether "better" and "best" mean anything for a metric: false for counts such as `train.epochs`
 * or `deploy.version`, unless the spec names a direction for it.
 */
export function isRanked(name: string, overrides: Readonly<Record<string, Direction>> = {}): boolean {
  const key = name.slice(name.lastIndexOf('.') + 1);
  const bare = metricKeyOf(name);
  if (overrides[name] ?? overrides[bare] ?? overrides[key]) return true;
  return !INFORMATIONAL.test(key);
}

/**
 * Per-metric directions a spec declares in a top-level block
 * `metrics: { val_loss: lower, evaluate.r2: higher }` (or `{ better: lower }` objects).
 * A spec that cannot be read, or has no such block, gives none.
 */
export function specDirections(specPath: string): Record<string, Direction> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(specPath, 'utf8'));
  } catch {
    return {};
  }
  const block = (doc as { metrics?: unknown } | null)?.metrics;
  if (typeof block !== 'object' || block === null) return {};
  const out: Record<string, Direction> = {};
  for (const [name, v] of Object.entries(block)) {
    const d = typeof v === 'string' ? v : (v as { better?: unknown } | null)?.better;
    if (d === 'higher' || d === 'lower') out[name] = d;
  }
  return out;
}

/**
 * The full `stage.key` name a user means by `name` among `names`: itself when present, else the one
 * `stage.name` (split by splitMetricName); when several stages have it, the evaluation stage's
 * (`evaluate`, `eval…`) if there is exactly one. `ambiguous` lists the candidates otherwise.
 */
export function findMetricName(name: string, names: readonly string[]): { name: string } | { ambiguous: string[] } | undefined {
  if (names.includes(name)) return { name };
  const matches = names.filter((n) => splitMetricName(n)?.key === name);
  if (matches.length === 1) return { name: matches[0] };
  if (matches.length === 0) return undefined;
  const evals = matches.filter((n) => /^eval/i.test(n));
  return evals.length === 1 ? { name: evals[0] } : { ambiguous: matches };
}

/** {@link findMetricName}, throwing a UserError (exit 2) that lists the candidates or the known names. */
export function resolveMetricName(name: string, names: readonly string[], what = 'metric'): string {
  const found = findMetricName(name, names);
  if (found && 'name' in found) return found.name;
  if (found) throw new UserError(`${what} "${name}" is ambiguous: ${found.ambiguous.join(', ')}`, { hint: `name the stage, e.g. ${found.ambiguous[0]}` });
  throw new UserError(`unknown ${what} "${name}"; ${names.length ? `known: ${names.join(', ')}` : 'the compared runs have no final metrics'}`);
}
