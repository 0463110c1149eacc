import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { delimitedRecordBlocks, delimitedRecords } from '../../src/ml/csv-records.js';
import { DataError } from '../../src/ml/errors.js';
import { readTableBatches } from '../../src/ml/table-batches.js';

async function records(text: string | Buffer) {
  const path = join(await mkdtemp(join(tmpdir(), 'csv-records-')), 'a.csv');
  await writeFile(path, text);
  const out = [];
  for await (const r of delimitedRecords(path, 'a.csv', ',')) out.push(r);
  return out;
}

describe('delimitedRecords', () => {
  it('splits plain lines by hand: BOM, blank lines, no final line end, each with its line and text', async () => {
    const out = await records('\ufeffa,b\n1,2\n\n3,4');
    expect(out).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2, text: '1,2' },
      { fields: ['3', '4'], line: 4, text: '3,4' },
    ]);
  });

  it('hands a file with quotes past the first chunk to csv-parse without losing or repeating rows or lines', async () => {
    const plain = Array.from({ length: 200_000 }, (_, i) => `${i},x`).join('\n');
    const out = await records(`a,b\n${plain}\n\n"q,1","multi\nline"\n7,8\n`);
    expect(out).toHaveLength(1 + 200_000 + 2);
    expect(out.slice(1, 200_001).map((r) => Number(r.fields[0]))).toEqual(Array.from({ length: 200_000 }, (_, i) => i));
    expect(out[200_001]).toEqual({ fields: ['q,1', 'multi\nline'], line: 200_003 });
    expect(out[200_002]).toEqual({ fields: ['7', '8'], line: 200_005 });
  });

  it('reads CRLF files through csv-parse, lines as in the file', async () => {
    expect(await records('a,b\r\n1,2\r\n3,4\r\n')).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
    ]);
  });

  it('names the line and row of a ragged plain row', async () => {
    const err = await records('a,b\n1,2\n\n3\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ line: 4, row: 2 });
    expect((err as DataError).message).toContain('has 1 fields, expected 2 like the header (a, b)');
  });
});

describe('delimitedRecordBlocks', () => {
  it('hands out the records of delimitedRecords in blocks of bounded size, plain chunks and csv-parse alike', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'csv-blocks-')), 'a.csv');
    const plain = Array.from({ length: 100_000 }, (_, i) => `${i},x`).join('\n');
    await writeFile(path, `a,b\n${plain}\n"q,1",2\n${plain}\n`);
    const blocks = [];
    for await (const block of delimitedRecordBlocks(path, 'a.csv', ',')) blocks.push(block);
    const each = [];
    for await (const r of delimitedRecords(path, 'a.csv', ',')) each.push(r);
    expect(blocks.flat()).toEqual(each);
    expect(each).toHaveLength(1 + 200_001);
    expect(blocks.length).toBeGreaterThan(30);
    expect(Math.max(...blocks.map((b) => b.length)), 'a block is some 64 KiB of lines, not the file').toBeLessThanOrEqual(20_000);
  });
});

describe('UTF-8 check of the streamed reader (predict reads its input this way)', () => {
  async function firstError(text: Buffer) {
    const dir = await mkdtemp(join(tmpdir(), 'csv-utf8-'));
    await writeFile(join(dir, 'in.csv'), text);
    try {
      for await (const _ of readTableBatches(join(dir, 'in.csv'), { displayName: 'in.csv', batchSize: 100 })) void _;
    } catch (err) {
      return err as Error;
    }
    return undefined;
  }
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `p${i},${i % 7},Oslo`).join('\n');

  it('refuses a latin-1 file with the line of its first bad byte, past the first 64 KiB chunk', async () => {
    const text = `name,n,city\n${rows(20_000)}\nbob,3,T\xf8nsberg\n${rows(10)}\n`;
    const err = await firstError(Buffer.from(text, 'latin1'));
    expect(err).toBeInstanceOf(DataError);
    expect(err!.message).toContain('in.csv:20002: is not UTF-8 text');
    expect(err!.message).toContain('iconv -f latin1 -t utf-8');
  });

  it('refuses it on the csv-parse path too (a quoted field) and accepts a UTF-8 file that spells U+FFFD', async () => {
    const quoted = await firstError(Buffer.from('name,city\n"ann, a",Oslo\nbob,Troms\xf8\n', 'latin1'));
    expect(quoted?.message).toContain('in.csv:3: is not UTF-8 text');
    expect(await firstError(Buffer.from('name,note\nann,"\ufffd, the replacement character"\nbo,\ufffd\n', 'utf8'))).toBeUndefined();
  });
});
