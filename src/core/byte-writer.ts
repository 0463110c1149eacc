/**
 * UTF-8 text built straight into one growing Buffer, without the per-piece strings of string
 * concatenation (a million output rows made the garbage collector the biggest cost of
 * `mlpipe predict`). The buffer is reused: `take` hands out a view of it that stays valid until
 * the next write.
 */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** One byte (an ASCII character's code). */
  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }

  /** `s` as UTF-8. */
  text(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = pos;
        this.reserve(3 * (n - i));
        this.pos += this.buf.write(s.slice(i), this.pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** A non-negative safe integer in decimal. */
  uint(v: number): void {
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    this.digits(v, digits);
  }

  /** The last `count` decimal digits of the non-negative safe integer `v` (leading zeros included). */
  digits(v: number, count: number): void {
    this.reserve(count);
    const buf = this.buf;
    let end = this.pos + count;
    this.pos = end;
    for (let i = 0; i < count; i++) {
      const q = Math.floor(v / 10);
      buf[--end] = 48 + v - q * 10;
      v = q;
    }
  }

  /** The bytes written since the last `take` (a view, valid until the next write), and an empty writer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }
}
