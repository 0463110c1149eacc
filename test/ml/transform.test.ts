import { describe, expect, it } from 'vitest';
import { buildDataset, type BuildOptions } from '../../src/ml/build-dataset.js';
import { DataError } from '../../src/ml/errors.js';
import type { Table } from '../../src/ml/read-table.js';
import { transformRows } from '../../src/ml/transform.js';
import { makeMeta } from './fixtures.js';

const OPTIONS: BuildOptions = {
  target: 'label',
  task: 'auto',
  columns: {},
  missing: { kind: 'drop' },
  encoding: 'onehot',
  normalize: 'zscore',
  split: { test: 0.25, validation: 0, seed: 1, stratify: false },
  shuffle: false,
  dedupe: false,
};

function table(cells: (i: number) => unknown[]): Table {
  const rows = Array.from({ length: 20 }, (_, i) => cells(i));
  return { file: 'data.csv', columns: ['size', 'color', 'label'], rows, lines: rows.map((_, i) => i + 2) };
}

const plain = (i: number): unknown[] => [String(((i * 7) % 20) + 1), ['red', 'blue'][i % 2], i % 3 ? 'a' : 'b'];

describe('transformRows', () => {
  it('preprocess reports a number out of range with the file, line, row and column', () => {
    const t = table((i) => (i === 6 ? ['1e999', 'red', 'a'] : plain(i)));
    let error: unknown;
    try {
      buildDataset(t, OPTIONS, 'data.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ file: 'data.csv', line: 8, row: 7, column: 'size', reason: 'expected a finite number, got "1e999"' });
  });

  it('scoring reports the same for a row out of range, as a DataError naming the row and column', () => {
    const { meta } = buildDataset(table(plain), OPTIONS, 'data.csv').dataset;
    expect(transformRows(meta, [{ size: '4', color: 'blue' }]).xShape).toEqual([1, 3]);
    expect(() => transformRows(meta, [{ size: 4, color: 'red' }, { size: '1e999', color: 'red' }])).toThrow(
      'row 2, column "size": expected a finite number, got "1e999"',
    );
    expect(() => transformRows(meta, [{ size: -Infinity, color: 'red' }])).toThrow(DataError);
  });

  it('rows of cells in the order of `columns` encode as the same rows as objects; errors name the same row and column', () => {
    const { meta } = buildDataset(table(plain), OPTIONS, 'data.csv').dataset;
    const objects = [{ size: '4', color: 'blue' }, { size: 7, color: 'red' }];
    const cells = [['x', 'blue', '4'], ['y', 'red', 7]];
    expect(transformRows(meta, cells, ['id', 'color', 'size'])).toEqual(transformRows(meta, objects));
    expect(() => transformRows(meta, [['red', '4'], ['red', '1e999']], ['color', 'size'])).toThrow('row 2, column "size": expected a finite number, got "1e999"');
    expect(() => transformRows(meta, [['4']], ['size'])).toThrow('column "color"');
    const text = makeMeta({ task: 'binary', kind: 'text', vocab: 5, maxLength: 4 });
    expect(Array.from(transformRows(text, [[1, 'w0 w2 zz']], ['id', 'text']).x)).toEqual([2, 4, 1, 0]);
  });

  it('gives the same encoding on repeated calls with one meta, and follows a meta with new arrays', () => {
    const meta = makeMeta({ task: 'binary', kind: 'text', vocab: 5, maxLength: 4 });
    const row = [{ text: 'w0 w2 zz' }];
    const first = Array.from(transformRows(meta, row).x);
    expect(first).toEqual([2, 4, 1, 0]);
    expect(Array.from(transformRows(meta, row).x)).toEqual(first);
    const renamed = { ...meta, text: { ...meta.text!, vocab: ['<pad>', '<oov>', 'zz', 'w0', 'w2'] } };
    expect(Array.from(transformRows(renamed, row).x)).toEqual([3, 4, 2, 0]);

    const tab = makeMeta({ task: 'binary', features: 2 });
    expect(Array.from(transformRows(tab, [{ f0: 1, f1: 2 }]).x)).toEqual([1, 2]);
    expect(transformRows({ ...tab, features: tab.features.slice(1) }, [{ f0: 1, f1: 2 }])).toEqual({ x: new Float32Array([2]), xShape: [1, 1] });
    expect(Array.from(transformRows(tab, [{ f0: 5, f1: 6 }]).x)).toEqual([5, 6]);
  });
});
