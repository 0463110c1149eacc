import { describe, expect, it } from 'vitest';
import { spliceIntoSql, sqlContextsAt, sqlLiteral } from '../../../src/core/spec/sql-quote.js';

const PLACEHOLDER = /\$\{([^{}]*)\}/g;
const splice = (sql: string, values: Record<string, unknown>) =>
  spliceIntoSql(sql, PLACEHOLDER, (m) => (m[1]!.startsWith('raw.') ? { raw: String(values[m[1]!.slice(4)]) } : { value: values[m[1]!] }));

describe('SQL splicing of params', () => {
  it('knows code, strings with doubled quotes, identifiers and both comment kinds', () => {
    const sql = "select ${a}, 'it''s ${b}', \"x ${c}\" -- ${d}\n/* ${e} */ ${f}";
    const spans = [...sql.matchAll(PLACEHOLDER)].map((m) => ({ start: m.index!, end: m.index! + m[0].length }));
    expect(sqlContextsAt(sql, spans)).toEqual(['code', 'string', 'identifier', 'line-comment', 'block-comment', 'code']);
  });

  it('writes literals: numbers, quoted text, booleans, NULL, lists; refuses mappings and NaN', () => {
    expect(sqlLiteral(1.5)).toEqual({ text: '1.5' });
    expect(sqlLiteral("x'; drop table t; --")).toEqual({ text: "'x''; drop table t; --'" });
    expect(sqlLiteral([1, 'a', true, null])).toEqual({ text: "[1, 'a', TRUE, NULL]" });
    expect(sqlLiteral({ a: 1 })).toHaveProperty('problem');
    expect(sqlLiteral(Number.NaN)).toHaveProperty('problem');
  });

  it('a hostile value never leaves its literal or string; raw pastes text', () => {
    const hostile = "x'; drop table t; --";
    expect(splice('select * from t where name = ${v}', { v: hostile }).text).toBe("select * from t where name = 'x''; drop table t; --'");
    expect(splice("select * from t where name = '${v}'", { v: hostile }).text).toBe("select * from t where name = 'x''; drop table t; --'");
    expect(splice('select "${v}" from t', { v: 'a"; drop' }).text).toBe('select "a""; drop" from t');
    expect(splice('select ${raw.cols} from t', { cols: 'a, b' }).text).toBe('select a, b from t');
  });

  it('a value that would end the comment it is in is a problem, not spliced', () => {
    const out = splice('select 1 -- ${v}\n', { v: 'a\ndrop table t' });
    expect(out.problems).toEqual([{ match: '${v}', problem: 'holds a line end, which would end the comment it is in' }]);
    expect(out.text).toBe('select 1 -- ${v}\n');
  });
});
