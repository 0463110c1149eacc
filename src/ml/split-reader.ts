import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { SplitMeta } from './dataset.js';
import { DatasetCorruptError } from './errors.js';

const littleEndian = endianness() === 'LE';

/**
 * The `x` rows of one split, read from its file on demand instead of held in memory: `read`
 * gives the rows asked for (a batch), so what training holds of `x` is a batch, not the split.
 * `subset` is a view of some rows (a held-out part) sharing the open file.
 */
export class SplitRowReader {
  /** The most rows one `read` returned: what this reader ever held of `x` at once. */
  maxRowsRead = 0;
  /** Rows read in all. */
  rowsRead = 0;

  private constructor(
    private readonly file: { fd: number },
    readonly n: number,
    readonly rowSize: number,
    readonly dtype: 'float32' | 'int32',
    private readonly index?: Int32Array,
    private readonly parent?: SplitRowReader,
  ) {}

  static open(path: string, sm: Pick<SplitMeta, 'n' | 'xShape' | 'xDtype'>, expectedBytes: number, dir: string): SplitRowReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (cause) {
      throw new DatasetCorruptError(dir, `cannot read the split file ${path}`, { cause });
    }
    const size = fstatSync(fd).size;
    if (size !== expectedBytes) {
      closeSync(fd);
      throw new DatasetCorruptError(dir, `${path} holds ${size} bytes, expected ${expectedBytes} for shape [${sm.xShape.join(', ')}]`);
    }
    return new SplitRowReader({ fd }, sm.n, sm.xShape.slice(1).reduce((a, b) => a * b, 1), sm.xDtype);
  }

  /** Rows `idx` of this view (0-based), in that order, row-major. Consecutive rows of the file are read in one call. */
  read(idx: ArrayLike<number>): Float32Array | Int32Array {
    const count = idx.length;
    const out = this.dtype === 'int32' ? new Int32Array(count * this.rowSize) : new Float32Array(count * this.rowSize);
    const bytes = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    const rowBytes = this.rowSize * 4;
    for (let i = 0; i < count; ) {
      const first = this.fileRow(idx[i]!);
      let run = 1;
      while (i + run < count && this.fileRow(idx[i + run]!) === first + run) run++;
      this.readFully(bytes, i * rowBytes, run * rowBytes, first * rowBytes);
      i += run;
    }
    if (!littleEndian) swapWords(bytes);
    this.count(count);
    return out;
  }

  /** Rows `start … start + size` of this view. */
  range(start: number, size: number): Float32Array | Int32Array {
    return this.read(Int32Array.from({ length: size }, (_, i) => start + i));
  }

  /** A view of rows `idx` of this one, in that order. */
  subset(idx: ArrayLike<number>): SplitRowReader {
    const index = Int32Array.from(idx, (i) => this.fileRow(i));
    return new SplitRowReader(this.file, index.length, this.rowSize, this.dtype, index, this.parent ?? this);
  }

  close(): void {
    if (this.file.fd >= 0) closeSync(this.file.fd);
    this.file.fd = -1;
  }

  private fileRow(i: number): number {
    return this.index ? this.index[i]! : i;
  }

  private count(rows: number): void {
    this.rowsRead += rows;
    if (rows > this.maxRowsRead) this.maxRowsRead = rows;
    this.parent?.count(rows);
  }

  /** Reads `length` bytes of the file at `position` into `into` at `offset`. */
  readFully(into: Buffer, offset: number, length: number, position: number): void {
    while (length > 0) {
      const got = readSync(this.file.fd, into, offset, length, position);
      if (got === 0) throw new RangeError(`split file ended at byte ${position}`);
      offset += got;
      length -= got;
      position += got;
    }
  }
}

const swapWords = (b: Buffer): void => void b.swap32();

/** One split opened for streaming: its `x` rows through a reader, its `y` in memory (4 bytes a value). */
export interface StreamedSplit {
  n: number;
  xShape: number[];
  y: Float32Array;
  rows: SplitRowReader;
}

/** Opens split `name` of the dataset in `dir` (its meta `sm`) for streaming: `y` is read, `x` is left in the file. */
export function openStreamedSplit(dir: string, name: string, sm: SplitMeta): StreamedSplit {
  const xLen = sm.xShape.reduce((a, b) => a * b, 1);
  const yLen = sm.n * (sm.yWidth ?? 1);
  const expected = (xLen + yLen + (sm.sourceRows ? sm.n : 0)) * 4;
  if (sm.xShape[0] !== sm.n) throw new DatasetCorruptError(dir, `the ${name} split has ${sm.n} rows but shape [${sm.xShape.join(', ')}]`);
  const rows = SplitRowReader.open(join(dir, sm.file), sm, expected, dir);
  const y = new Float32Array(yLen);
  const bytes = Buffer.from(y.buffer);
  rows.readFully(bytes, 0, bytes.byteLength, xLen * 4);
  if (!littleEndian) swapWords(bytes);
  return { n: sm.n, xShape: [...sm.xShape], y, rows };
}

/** Bytes of a split's `x`. */
export function xBytesOf(sm: Pick<SplitMeta, 'xShape'>): number {
  return sm.xShape.reduce((a, b) => a * b, 1) * 4;
}
