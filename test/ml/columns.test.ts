import { describe, expect, it } from 'vitest';
import {
  quickNumber,
  cellFormatOf,
  categoryOf,
  encodeFeature,
  featureColumnNames,
  featureEncoder,
  fitFeature,
  inferColumnType,
  inferTask,
  isMissing,
  numberOrThrow,
  parseNumber,
  sortCategories,
} from '../../src/ml/columns.js';
import { DataError } from '../../src/ml/errors.js';

const drop = { kind: 'drop' } as const;
const at = (i: number) => ({ file: 'f.csv', row: i + 1, line: i + 2 });

function encode(fm: ReturnType<typeof fitFeature>, raw: unknown): number[] {
  const enc = featureEncoder(fm);
  const out = new Float32Array(enc.width);
  encodeFeature(enc, raw, out, 0, { row: 1 });
  return Array.from(out);
}

describe('column inference', () => {
  it('tells numeric, categorical and text columns apart', () => {
    expect(inferColumnType(['1', ' 2.5', '-3e2', '', 'NA'])).toEqual({ type: 'numeric' });
    expect(inferColumnType([1, 2, null])).toEqual({ type: 'numeric' });
    expect(inferColumnType(['red', 'blue', 'red', '4'])).toEqual({ type: 'categorical' });
    expect(inferColumnType([true, false, true])).toEqual({ type: 'categorical' });
    expect(inferColumnType(['free to enter a weekly draw', 'ok see you there then', 'call me when you get home'])).toEqual({
      type: 'text',
    });
  });

  it('flags a mostly numeric column with a stray word, pointing at the first one', () => {
    const values = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', 'eleven', '12'];
    expect(inferColumnType(values)).toEqual({ type: 'numeric', badIndex: 10 });
  });

  it('infers the task from the target', () => {
    expect(inferTask(['0', '1', '1', '0'])).toBe('binary');
    expect(inferTask(['setosa', 'versicolor', 'virginica'])).toBe('multiclass');
    expect(inferTask(['1', '2', '3'])).toBe('multiclass');
    expect(inferTask(Array.from({ length: 30 }, (_, i) => String(i)))).toBe('regression');
    expect(inferTask(['1.5', '2.5', '1.5'])).toBe('regression');
  });

  it('sorts categories numerically when all are numbers', () => {
    expect(sortCategories(['10', '9', '1'])).toEqual(['1', '9', '10']);
    expect(sortCategories(['b', 'B', 'a', 'b'])).toEqual(['B', 'a', 'b']);
  });

  it('reads the usual missing markers as missing', () => {
    expect(['', ' ', 'NA', 'NaN', 'null', '?', '-', 'n/a', 'none', '#N/A', null, undefined, Number.NaN].every((v) => isMissing(v))).toBe(true);
    expect(['0', 'no', 0, false].some((v) => isMissing(v))).toBe(false);
  });
});

describe('feature fitting and encoding', () => {
  it('one-hot encodes sorted categories; an unknown category is all zeros', () => {
    const fm = fitFeature('color', ['red', 'blue', 'red'], { type: 'categorical', normalize: 'zscore', encoding: 'onehot', missing: drop }, at);
    expect(fm.categories).toEqual(['blue', 'red']);
    expect(featureColumnNames(fm)).toEqual(['color=blue', 'color=red']);
    expect(encode(fm, 'red')).toEqual([0, 1]);
    expect(encode(fm, ' blue ')).toEqual([1, 0]);
    expect(encode(fm, 'green')).toEqual([0, 0]);
  });

  it('ordinal-encodes with -1 for an unknown category', () => {
    const fm = fitFeature('size', ['S', 'M', 'L'], { type: 'categorical', normalize: 'none', encoding: 'ordinal', missing: drop }, at);
    expect(encode(fm, 'M')).toEqual([1]);
    expect(encode(fm, 'XL')).toEqual([-1]);
  });

  it('z-scores with the population std and min-maxes to [0, 1]', () => {
    const z = fitFeature('v', ['2', '4', '4', '4', '5', '5', '7', '9'], { type: 'numeric', normalize: 'zscore', encoding: 'onehot', missing: drop }, at);
    expect(z.stats).toEqual({ mean: 5, std: 2, min: 2, max: 9 });
    expect(encode(z, '9')).toEqual([2]);
    const m = fitFeature('v', [10, 20, 30], { type: 'numeric', normalize: 'minmax', encoding: 'onehot', missing: drop }, at);
    expect(encode(m, 25)).toEqual([0.75]);
    const constant = fitFeature('v', [3, 3], { type: 'numeric', normalize: 'zscore', encoding: 'onehot', missing: drop }, at);
    expect(encode(constant, 4)).toEqual([1]);
  });

  it('fills missing values with the train mean, median, mode or a constant', () => {
    const values = ['1', '', '2', '9', 'NA'];
    const fill = (how: 'mean' | 'median' | 'mode' | 'constant', value?: unknown) =>
      fitFeature('v', values, { type: 'numeric', normalize: 'none', encoding: 'onehot', missing: { kind: 'fill', fill: how, value } }, at).fill;
    expect(fill('mean')).toBe(4);
    expect(fill('median')).toBe(2);
    expect(fill('mode')).toBe(1);
    expect(fill('constant', 0)).toBe(0);
    const cat = fitFeature('c', ['b', '', 'a', 'b'], { type: 'categorical', normalize: 'none', encoding: 'onehot', missing: { kind: 'fill', fill: 'mean' } }, at);
    expect(cat.fill).toBe('b');
    expect(encode(cat, null)).toEqual([0, 1]);
  });

  it('statistics include filled values', () => {
    const fm = fitFeature('v', ['1', '', '3'], { type: 'numeric', normalize: 'zscore', encoding: 'onehot', missing: { kind: 'fill', fill: 'mean' } }, at);
    expect(fm.stats).toEqual({ mean: 2, std: Math.sqrt(2 / 3), min: 1, max: 3 });
  });

  it('a missing value without a fill, or a word in a numeric column, is a DataError naming the column', () => {
    const fm = fitFeature('age', ['1', '2'], { type: 'numeric', normalize: 'none', encoding: 'onehot', missing: drop }, at);
    expect(() => encode(fm, '')).toThrow(DataError);
    expect(() => encode(fm, '')).toThrow('row 1, column "age": is missing');
    expect(() => fitFeature('age', ['1', 'old'], { type: 'numeric', normalize: 'none', encoding: 'onehot', missing: drop }, at))
      .toThrowErrorMatchingInlineSnapshot(`
        [DataError: f.csv:3 (row 2), column "age": expected a number, got "old"
          hint: declare the column categorical (columns: { "age": { type: categorical } }), add the value to na_values if it marks a missing value, set decimal/thousands if numbers are written another way, or fix the data]
      `);
  });
});

describe('values out of the number range', () => {
  it('parseNumber accepts finite numbers only', () => {
    expect(parseNumber(' -3e2 ')).toBe(-300);
    expect(parseNumber('1.7e308')).toBe(1.7e308);
    expect(['1e999', '-1e999', ' 2E400 ', Infinity, -Infinity, Number.NaN, 'Infinity'].map((v) => parseNumber(v))).toEqual(Array(7).fill(undefined));
  });

  it('keeps an out-of-range number as written when it is a category', () => {
    expect(categoryOf(' 1e999 ')).toBe('1e999');
    expect(categoryOf('4.0')).toBe('4');
  });

  it('a column or target written as numbers with one out of range stays numeric and points at it', () => {
    expect(inferColumnType(['1', '2', '1e999'])).toEqual({ type: 'numeric', badIndex: 2 });
    expect(inferColumnType(['1e999', '-1e999'])).toEqual({ type: 'numeric', badIndex: 0 });
    expect(inferTask(['0', '1', '1e999'])).toBe('regression');
  });

  it('is a DataError naming the file, row and column when fitting, and the row and column when encoding', () => {
    expect(() => fitFeature('age', ['1', '1e999'], { type: 'numeric', normalize: 'zscore', encoding: 'onehot', missing: drop }, at))
      .toThrowErrorMatchingInlineSnapshot(`
        [DataError: f.csv:3 (row 2), column "age": expected a finite number, got "1e999"
          hint: fix the data: the value is out of the float64 range]
      `);
    const fm = fitFeature('age', ['1', '3'], { type: 'numeric', normalize: 'zscore', encoding: 'onehot', missing: drop }, at);
    expect(() => encode(fm, '-1e999')).toThrow('row 1, column "age": expected a finite number, got "-1e999"');
    expect(() => encode(fm, Infinity)).toThrow('row 1, column "age": expected a finite number, got Infinity');
    expect(() => numberOrThrow(Number.NEGATIVE_INFINITY, { column: 'x' })).toThrow(DataError);
  });

  it('a finite value that overflows the float32 model input is a DataError too', () => {
    const fm = fitFeature('v', ['1', '2'], { type: 'numeric', normalize: 'none', encoding: 'onehot', missing: drop }, at);
    expect(encode(fm, '3e38')).toEqual([Math.fround(3e38)]);
    expect(() => encode(fm, '1e39')).toThrow(`row 1, column "v": expected a finite number, got "1e39", which is out of range for the model's 32-bit float input`);
  });
});

describe('quickNumber', () => {
  const cells = ['1.5', '-0.25', '+3', '.5', '5.', '007', '0', '-999', '1e5', ' 1', '1 ', '1,000', '1.000', '1,5', '', '-', '.', '+', '--1', '1.2.3', '١', '１', 'NaN', 'Infinity', '9'.repeat(400), '0x10'];
  const formats = [
    cellFormatOf(undefined),
    cellFormatOf({ naValues: ['', '-999', 'NA'], decimal: '.', thousands: null }),
    cellFormatOf({ naValues: [''], decimal: ',', thousands: '.' }),
    cellFormatOf({ naValues: [''], decimal: '.', thousands: ' ' }),
  ];

  it('reads a cell only where isMissing and parseNumber would give that number, and plain decimals in the default format', () => {
    for (const fmt of formats) {
      for (const v of [...cells, 1.5, null, undefined]) {
        const q = quickNumber(v, fmt);
        if (q !== undefined) expect({ v, missing: isMissing(v, fmt), x: parseNumber(v, fmt) }).toEqual({ v, missing: false, x: q });
      }
    }
    expect(['1.5', '-0.25', '+3', '.5', '5.', '007', '-999'].map((v) => quickNumber(v, formats[0]!))).toEqual([1.5, -0.25, 3, 0.5, 5, 7, -999]);
    expect(quickNumber('-999', formats[1]!), 'a format with a numeric missing marker takes the general path').toBeUndefined();
    expect(quickNumber('1.5', formats[2]!), 'and so does a comma decimal mark').toBeUndefined();
  });
});
