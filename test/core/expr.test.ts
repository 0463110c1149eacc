import { describe, expect, it } from 'vitest';
import { evaluate, ExprNameError, ExprSyntaxError, formatExpr, formatUsed, formatValue, namesIn, parseCondition, parseExpr } from '../../src/core/expr.js';

const metrics: Record<string, number> = {
  accuracy: 0.9333,
  loss: 0.25,
  'evaluate.f1': 0.9,
  'baseline.accuracy': 0.95,
  'baseline.loss': 0.3,
  'production.accuracy': 0.92,
};
const lookup = (n: string) => metrics[n];
const run = (text: string) => evaluate(parseExpr(text), lookup, { known: Object.keys(metrics) });

describe('parseExpr', () => {
  it('gives * and / precedence over + and -, left-associative', () => {
    expect(formatExpr(parseExpr('1 + 2 * 3 - 4 / 2'))).toBe('1 + 2 * 3 - 4 / 2');
    expect(run('1 + 2 * 3 - 4 / 2').value).toBe(5);
    expect(run('10 - 4 - 3').value).toBe(3);
    expect(run('(1 + 2) * 3').value).toBe(9);
    expect(formatExpr(parseExpr('(1 + 2) * 3'))).toBe('(1 + 2) * 3');
    expect(formatExpr(parseExpr('10 - (4 - 3)'))).toBe('10 - (4 - 3)');
  });

  it('binds unary minus tighter than arithmetic and allows it twice', () => {
    expect(run('-2 * 3').value).toBe(-6);
    expect(run('- -2').value).toBe(2);
    expect(run('-(1 + 2)').value).toBe(-3);
  });

  it('binds not over a comparison, and over or', () => {
    expect(formatExpr(parseExpr('not accuracy > 0.9 or loss < 0.1'))).toBe('not accuracy > 0.9 or loss < 0.1');
    expect(run('not accuracy > 0.9 or loss < 0.1').value).toBe(false);
    expect(run('not (accuracy > 0.9 or loss < 0.1)').value).toBe(false);
    expect(run('! (loss > 1)').value).toBe(true);
  });

  it('binds and over or, with && and || as synonyms', () => {
    expect(formatExpr(parseExpr('a > 1 || b > 1 && c > 1'))).toBe('a > 1 or b > 1 and c > 1');
    expect(run('accuracy > 0.99 or loss < 0.5 and evaluate.f1 > 0.8').value).toBe(true);
    expect(run('(accuracy > 0.99 or loss < 0.5) and evaluate.f1 > 0.95').value).toBe(false);
  });

  it('reads numbers with decimals and exponents, and dotted names', () => {
    expect(run('1e-3 * 1000').value).toBe(1);
    expect(run('.5 + 0.25').value).toBe(0.75);
    expect(namesIn(parseExpr('evaluate.f1 >= baseline.accuracy - per_class.0.f1'))).toEqual(['evaluate.f1', 'baseline.accuracy', 'per_class.0.f1']);
  });

  it('evaluates every comparison operator', () => {
    expect([run('loss < 0.25'), run('loss <= 0.25'), run('loss > 0.25'), run('loss >= 0.25'), run('loss == 0.25'), run('loss != 0.25')].map((r) => r.value)).toEqual([
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
  });

  it('points at the column of a syntax error', () => {
    expect(() => parseExpr('accuracy < ')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: expected a number, a metric name or "(" but found the end at column 12
        accuracy < 
                   ^]
    `);
    expect(() => parseExpr('accuracy > 0.9 0.1')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: unexpected "0.1" at column 16
        accuracy > 0.9 0.1
                       ^]
    `);
    expect(() => parseExpr('(loss + 1')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: expected ")" but found the end at column 10
        (loss + 1
                 ^]
    `);
    expect(() => parseExpr('loss ~ 1')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: unexpected character "~" at column 6
        loss ~ 1
             ^]
    `);
    expect(() => parseExpr('   ')).toThrowError(ExprSyntaxError);
    expect(() => parseExpr('2x > 1')).toThrowError(/"2x" is not a number or a name at column 1/);
  });

  it('rejects chained comparisons and type mix-ups at parse time', () => {
    expect(() => parseExpr('0 < loss < 1')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: comparisons do not chain; join them with "and" at column 10
        0 < loss < 1
                 ^]
    `);
    expect(() => parseExpr('loss and accuracy > 1')).toThrowError(/"and" needs a condition such as "accuracy > 0.9", not a number at column 6/);
    expect(() => parseExpr('(loss < 1) + 2')).toThrowError(/"\+" needs a number, not a condition at column 12/);
    expect(() => parseExpr('not loss')).toThrowError(/"not" needs a condition/);
    const err = (() => {
      try {
        parseExpr('loss >');
      } catch (e) {
        return e as ExprSyntaxError;
      }
    })();
    expect(err?.column).toBe(7);
  });

  it('parseCondition refuses a bare number expression', () => {
    expect(() => parseCondition('accuracy - 0.1')).toThrowErrorMatchingInlineSnapshot(`
      [ExprSyntaxError: invalid expression: a condition must compare values, e.g. "accuracy >= 0.9"; this is a number at column 1
        accuracy - 0.1
        ^]
    `);
    expect(parseCondition('accuracy > 0.1').type).toBe('compare');
  });
});

describe('evaluate', () => {
  it('reports the values it read', () => {
    const r = run('accuracy >= 0.95 and loss < 1');
    expect(r.value).toBe(false);
    expect(r.used).toEqual({ accuracy: 0.9333 });
    expect(formatUsed(run('accuracy >= 0.95 or loss < 1').used)).toBe('accuracy = 0.9333, loss = 0.25');
  });

  it('reads a bare baseline as the same metric in the baseline run', () => {
    const r = run('accuracy < baseline - 0.01');
    expect(r.value).toBe(true);
    expect(r.used).toEqual({ accuracy: 0.9333, 'baseline.accuracy': 0.95 });
    expect(run('baseline * 0.5 > loss').used).toEqual({ 'baseline.loss': 0.3, loss: 0.25 });
    expect(run('accuracy >= production - 0.02').value).toBe(true);
  });

  it('explains a bare baseline that cannot be expanded', () => {
    expect(() => run('accuracy - loss < baseline')).toThrowErrorMatchingInlineSnapshot(
      `[ExprNameError: a bare "baseline" needs exactly one metric on the other side of the comparison (found accuracy, loss); write "baseline.METRIC" (known: accuracy, loss, evaluate.f1, baseline.accuracy, baseline.loss, production.accuracy)]`,
    );
    expect(() => run('baseline + 1 > 2')).toThrowError(/found none/);
    expect(() => run('-baseline')).toThrowError(/only has a meaning inside a comparison/);
  });

  it('lists the known names for an unknown one, with a suggestion', () => {
    expect(() => run('acuracy > 0.9')).toThrowErrorMatchingInlineSnapshot(
      `[ExprNameError: unknown metric "acuracy"; did you mean "accuracy"? (known: accuracy, loss, evaluate.f1, baseline.accuracy, baseline.loss, production.accuracy)]`,
    );
    expect(() => evaluate(parseExpr('x > 1'), () => undefined)).toThrowError(new ExprNameError('x', []));
    expect(() => evaluate(parseExpr('x > 1'), () => undefined)).toThrowError('unknown metric "x" (no metrics are known here)');
  });

  it('takes a comparison reading an assumed name as true and says so', () => {
    const r = evaluate(parseExpr('accuracy >= production - 0.005 and loss < 1'), (n) => (n.startsWith('production.') ? undefined : metrics[n]), {
      assumeTrue: (n) => n.startsWith('production.'),
    });
    expect(r).toEqual({ value: true, used: { loss: 0.25 }, assumed: ['accuracy >= production.accuracy - 0.005'] });
  });

  it('does not read the right side of a decided and/or', () => {
    expect(run('loss > 1 and nothing > 1').value).toBe(false);
    expect(run('loss < 1 or nothing > 1').value).toBe(true);
  });
});

describe('formatValue', () => {
  it('rounds for messages', () => {
    expect([0.933333, 3, 0.00012345, 1234.56789, -0.5].map(formatValue)).toEqual(['0.9333', '3', '0.000123', '1234.5679', '-0.5']);
  });
});
