import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_COLUMNS, readTable } from '../../src/ml/read-table.js';
import { DataError } from '../../src/ml/errors.js';
import { withFiles } from './data-helpers.js';

describe('readTable', () => {
  it('reads CSV with a BOM, CRLF line ends, quoted commas and a multi-line field', async () => {
    const dir = await withFiles({ 'a.csv': '\ufeffname,note\r\nann,"x, y"\r\n\r\nbob,"two\r\nlines"\r\ncy,plain\r\n' });
    const t = await readTable(join(dir, 'a.csv'), { displayName: 'a.csv' });
    expect(t.columns).toEqual(['name', 'note']);
    expect(t.rows).toEqual([
      ['ann', 'x, y'],
      ['bob', 'two\r\nlines'],
      ['cy', 'plain'],
    ]);
    expect(t.lines).toEqual([2, 4, 6]);
  });

  it('refuses a csv that is not UTF-8 with the line and the conversion and file_encoding hints, instead of merging its accented values into one', async () => {
    const dir = await withFiles({ 'a.csv': Buffer.from('name,city\nann,Oslo\nbob,T\xf8nsberg\ncy,Troms\xf8\n', 'latin1') });
    const err = await readTable(join(dir, 'a.csv'), { displayName: 'a.csv' }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain('a.csv:3: is not UTF-8 text');
    expect(err.message).toContain('iconv -f latin1 -t utf-8');
    expect(err.message).toContain('file_encoding: latin-1');
    const same = await withFiles({ 'b.csv': 'name,note\nann,\ufffd is the replacement character\n' });
    expect((await readTable(join(same, 'b.csv'))).rows).toEqual([['ann', '\ufffd is the replacement character']]);
  });

  it('reads TSV', async () => {
    const dir = await withFiles({ 'a.tsv': 'a\tb\n1\thello, world\n' });
    const t = await readTable(join(dir, 'a.tsv'));
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.rows).toEqual([['1', 'hello, world']]);
  });

  it('reads JSON lines with a BOM and CRLF, taking the union of keys', async () => {
    const dir = await withFiles({ 'a.jsonl': '\ufeff{"a":1,"b":"x"}\r\n\r\n{"a":2,"c":true}\r\n' });
    const t = await readTable(join(dir, 'a.jsonl'));
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      [1, 'x', undefined],
      [2, undefined, true],
    ]);
    expect(t.lines).toEqual([1, 3]);
  });

  it('reads a JSON array of objects', async () => {
    const dir = await withFiles({ 'a.json': '\ufeff[{"x": 1.5, "y": null}, {"x": 2, "y": "b"}]' });
    const t = await readTable(join(dir, 'a.json'));
    expect(t.columns).toEqual(['x', 'y']);
    expect(t.rows).toEqual([
      [1.5, null],
      [2, 'b'],
    ]);
  });

  it('names the file, line and row of a ragged row', async () => {
    const dir = await withFiles({ 'r.csv': 'a,b,c\n1,2,3\n4,5\n' });
    const err = await readTable(join(dir, 'r.csv'), { displayName: 'data/r.csv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatchInlineSnapshot(`
      "data/r.csv:3 (row 2): has 2 fields, expected 3 like the header (a, b, c)
        hint: quote fields that contain the delimiter (","), set \`delimiter\` if the file uses another one, or fix the row"
    `);
    expect((err as DataError).row).toBe(2);
  });

  it('rejects an empty file, a header without rows, and JSON that is not an array of objects', async () => {
    const dir = await withFiles({ 'e.csv': '', 'h.csv': 'a,b\n', 'n.json': '{"a":1}', 'bad.jsonl': '{"a":1}\n[1]\n', 'x.txt': 'a' });
    await expect(readTable(join(dir, 'e.csv'), { displayName: 'e.csv' })).rejects.toThrow('e.csv: is empty');
    await expect(readTable(join(dir, 'h.csv'), { displayName: 'h.csv' })).rejects.toThrow('h.csv: has a header but no data rows');
    await expect(readTable(join(dir, 'n.json'), { displayName: 'n.json' })).rejects.toThrow('must hold a JSON array of objects');
    await expect(readTable(join(dir, 'bad.jsonl'), { displayName: 'bad.jsonl' })).rejects.toThrow('bad.jsonl:2 (row 2): must be a JSON object, got an array');
    await expect(readTable(join(dir, 'x.txt'), { displayName: 'x.txt' })).rejects.toThrow('cannot tell the format from the extension ".txt"');
  });

  it('reports an unclosed quote as a DataError', async () => {
    const dir = await withFiles({ 'q.csv': 'a,b\n1,"open\n' });
    await expect(readTable(join(dir, 'q.csv'), { displayName: 'q.csv' })).rejects.toThrow(/^q\.csv.*is not valid CSV/);
  });
});

describe('readTable: the column cap (issue 14.9)', () => {
  const wide = (n: number) => `${Array.from({ length: n }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: n }, () => '1').join(',')}\n`;

  it('refuses a CSV wider than MAX_COLUMNS at its header, with a hint', async () => {
    const dir = await withFiles({ 'wide.csv': wide(MAX_COLUMNS + 1), 'ok.csv': wide(MAX_COLUMNS) });
    const err = await readTable(join(dir, 'wide.csv'), { displayName: 'wide.csv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(
      'wide.csv:1: has 10,001 columns, more than the 10,000 mlpipe reads (every row is held in memory with all of them)\n' +
        '  hint: keep the columns you mean to train on before this stage (a shell stage with cut, or a sql stage selecting them), or reduce them (feature hashing, PCA)',
    );
    expect((await readTable(join(dir, 'ok.csv'))).columns).toHaveLength(MAX_COLUMNS);
  });

  it('refuses JSON rows with more keys than that', async () => {
    const row = JSON.stringify(Object.fromEntries(Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => [`k${i}`, 1])));
    const dir = await withFiles({ 'wide.jsonl': `${row}\n` });
    await expect(readTable(join(dir, 'wide.jsonl'), { displayName: 'wide.jsonl' })).rejects.toThrow('wide.jsonl: has 10,001 columns, more than the 10,000 mlpipe reads');
  });
});
