import { evaluate, ExprNameError, ExprSyntaxError, namesIn, parseCondition, type Expr } from '../../core/expr.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import { UserError } from '../../errors.js';
import type { Tracker } from '../../core/tracker/types.js';
import type { RunRow } from './api-types.js';

/** A filter the dashboard cannot apply: a syntax error or a name no run has (answered with 400). */
export class RunFilterError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint });
    this.name = 'RunFilterError';
  }
}

const MAX_KNOWN = 30;

/**
 * The runs a filter such as `params.lr < 0.01 and metrics.evaluate.accuracy >= 0.9` keeps, in order.
 * This is the one place the dashboard filters runs: it reads the condition with the expression
 * language of gates and `--fail-if` (numbers, comparisons, and/or/not) over `params.NAME` and
 * `metrics.STAGE.KEY`; a run lacking a name the condition reads is left out.
 */
export async function filterRuns(_tracker: Tracker, rows: readonly RunRow[], text: string): Promise<RunRow[]> {
  if (!text.trim()) return [...rows];
  let expr: Expr;
  try {
    expr = parseCondition(text);
  } catch (err) {
    if (err instanceof ExprSyntaxError) throw new RunFilterError(`invalid filter: ${err.reason} at column ${err.column}`, 'e.g. params.lr < 0.01 and metrics.evaluate.accuracy >= 0.9');
    throw err;
  }
  const known = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.params)) known.add(`params.${k}`);
    for (const k of Object.keys(r.metrics)) known.add(`metrics.${k}`);
  }
  const unknown = namesIn(expr).filter((n) => !known.has(n));
  if (unknown.length) {
    const list = [...known].sort((a, b) => Number(a.startsWith('metrics.')) - Number(b.startsWith('metrics.')) || (a < b ? -1 : 1));
    const more = list.length > MAX_KNOWN ? `, and ${list.length - MAX_KNOWN} more` : '';
    const hint = didYouMean(unknown[0]!, list);
    throw new RunFilterError(
      `invalid filter: no run has "${unknown[0]}"${hint ? `; ${hint}` : ''} (known: ${list.slice(0, MAX_KNOWN).join(', ')}${more})`,
      'names are params.NAME and metrics.STAGE.KEY',
    );
  }
  return rows.filter((r) => {
    const lookup = (name: string): number | undefined => {
      const v = name.startsWith('params.') ? r.params[name.slice(7)] : name.startsWith('metrics.') ? r.metrics[name.slice(8)] : undefined;
      return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
    };
    try {
      return evaluate(expr, lookup, { references: [] }).value === true;
    } catch (err) {
      if (err instanceof ExprNameError) return false;
      throw err;
    }
  });
}
