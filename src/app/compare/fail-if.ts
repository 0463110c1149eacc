import { UserError } from '../../errors.js';
import { evaluate, ExprNameError, ExprSyntaxError, formatUsed, namesIn, parseCondition, type Expr } from '../../core/expr.js';
import type { Comparison } from './build-comparison.js';
import { findMetricName } from './metric-names.js';
import { metricKeyOf } from '../../core/tracker/metric-name.js';

/** One `--fail-if` condition checked against one run. */
export interface ConditionCheck {
  run: string;
  holds: boolean;
  values: Record<string, number>;
}

/** A `--fail-if` condition and whether it held for any compared run (then the command exits 3). */
export interface ConditionResult {
  expression: string;
  holds: boolean;
  checks: ConditionCheck[];
  /** Why the condition was not checked for some run (it mentions `baseline` and that run is the baseline). */
  warning?: string;
}

/**
 * Checks each condition for every run but the baseline (for the baseline alone when it is the
 * only run). Names are final metrics (`evaluate.accuracy`, or an unambiguous `accuracy`);
 * `baseline.NAME`, or a bare `baseline` beside one metric, reads the baseline run. A condition that
 * mentions `baseline` is not checked against the baseline itself (it would compare the run with
 * itself and always pass, e.g. `--last 1` without `--baseline`): it comes back with a `warning`.
 * Syntax errors, unknown metrics and metrics a run lacks are UserErrors (exit 2).
 */
export function checkConditions(comparison: Comparison, conditions: readonly string[], opts: { baselineGiven?: boolean } = {}): ConditionResult[] {
  const parsed = conditions.map((text): [string, Expr] => {
    try {
      return [text, parseCondition(text)];
    } catch (err) {
      if (err instanceof ExprSyntaxError) throw new UserError(`--fail-if: ${err.message}`, { cause: err });
      throw err;
    }
  });
  const names = comparison.metrics.map((m) => m.name);
  const bare = names.map(metricKeyOf);
  const known = [...new Set(bare.filter((b, i) => bare.indexOf(b) === i && bare.lastIndexOf(b) === i)), ...names];
  const baseIndex = comparison.runs.findIndex((r) => r.isBaseline);
  const targets = comparison.runs.map((_, i) => i).filter((i) => i !== baseIndex || comparison.runs.length === 1);
  return parsed.map(([text, expr]) => {
    const mentionsBaseline = namesIn(expr).some((n) => n === 'baseline' || n.startsWith('baseline.'));
    const self = mentionsBaseline ? targets.filter((i) => i === baseIndex) : [];
    const checked = targets.filter((i) => !self.includes(i));
    const warning =
      self.length === 0
        ? undefined
        : `--fail-if "${text}" was not checked for ${comparison.runs[baseIndex].shortId}: it mentions baseline, and ${opts.baselineGiven ? 'that run is the baseline' : 'with no --baseline the baseline is that run itself'}, so it would always pass; pass --baseline RUN or MODEL@ALIAS (e.g. --baseline iris@production) to compare with another run`;
    const checks = checked.map((i): ConditionCheck => {
      const run = comparison.runs[i];
      const lookup = (name: string): number | undefined => {
        const onBaseline = name.startsWith('baseline.');
        const found = findMetricName(onBaseline ? name.slice('baseline.'.length) : name, names);
        if (!found) return undefined;
        if ('ambiguous' in found) throw new UserError(`--fail-if "${text}": "${name}" is ambiguous: ${found.ambiguous.join(', ')}`, { hint: `name the stage, e.g. ${found.ambiguous[0]}` });
        const full = found.name;
        const at = onBaseline ? baseIndex : i;
        const value = comparison.metrics.find((m) => m.name === full)!.values[at];
        if (value === null) throw new UserError(`--fail-if "${text}": run ${comparison.runs[at].shortId} has no value for ${full}`);
        return value;
      };
      try {
        const result = evaluate(expr, lookup, { known, references: ['baseline'] });
        return { run: run.id, holds: result.value === true, values: result.used };
      } catch (err) {
        if (err instanceof ExprNameError) throw new UserError(`--fail-if "${text}": ${err.message}`, { cause: err });
        throw err;
      }
    });
    return { expression: text, holds: checks.some((c) => c.holds), checks, ...(warning ? { warning } : {}) };
  });
}

/** `fail-if accuracy < baseline - 0.01 holds for r-51c0aa12: accuracy = 0.91, baseline.accuracy = 0.95`, one line per run it held for. */
export function describeFailures(results: readonly ConditionResult[], comparison: Comparison): string[] {
  const short = new Map(comparison.runs.map((r) => [r.id, r.shortId]));
  return results.flatMap((r) => r.checks.filter((c) => c.holds).map((c) => `fail-if ${r.expression} holds for ${short.get(c.run)}: ${formatUsed(c.values)}`));
}
