import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/core/byte-writer.js';
import { sevenDigits, writeSevenDigits } from '../../src/core/seven-digits.js';

const reference = (v: number) => String(Number(v.toPrecision(7)));

describe('sevenDigits', () => {
  it('writes what String(Number(v.toPrecision(7))) writes, at the edges of both notations', () => {
    const edges = [0, -0, 1, -1, 0.5, 1e-6, 9.9999999e-7, 1e-7, 0.99999996, 9999999.4, 9999999.5, 1e7, 12345678, 1e21, 1e-300, 5e-324, 1e-8, 1.07532e-8, 123, NaN, Infinity, -Infinity];
    for (const v of edges) expect(sevenDigits(v), String(v)).toBe(reference(v));
  });

  it('agrees with it over float32 probabilities and numbers of every magnitude', () => {
    const f = new Float32Array(1);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const misses: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      f[0] = random() ** (1 + random() * 30);
      for (const v of [f[0], -f[0], (random() - 0.5) * 10 ** (random() * 40 - 20)]) if (sevenDigits(v) !== reference(v)) misses.push(v);
    }
    expect(misses).toEqual([]);
  });
});

describe('writeSevenDigits', () => {
  const written = (values: number[]) => {
    const w = new ByteWriter(16);
    for (const v of values) {
      writeSevenDigits(w, v);
      w.byte(0x20);
    }
    return w.take().toString('latin1').split(' ').slice(0, -1);
  };

  it('writes the bytes of sevenDigits at the edges: powers of ten and their neighbours, rounding to the next power, ties, signs', () => {
    const f = new Float32Array(1);
    const edges = [0, -0, 1, -1, 0.5, 9.9999999e-7, 1e-7, 0.99999996, 9999999.4, 9999999.5, 1e7, 1e-38, 1.2e-38, 5e-39, 1e-45, NaN, Infinity, -Infinity, 0.12345675, 1234567.5, 1.0000005, 0.10000005, 4.333064e-10, 1.808211e-19];
    for (let e = -40; e <= 8; e++) {
      const p = Number(`1e${e}`);
      for (const v of [p, p * (1 + 2 ** -52), p * (1 - 2 ** -53), p * 0.99999995, p * 0.9999999, p * 1.0000005]) {
        f[0] = v;
        edges.push(v, -v, f[0]);
      }
    }
    expect(written(edges)).toEqual(edges.map(sevenDigits));
  });

  it('agrees with sevenDigits over float32 probabilities and values of every magnitude', () => {
    const f = new Float32Array(200_000);
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < f.length; i++) f[i] = i % 2 ? random() ** (1 + random() * 60) : (random() - 0.5) * 10 ** (random() * 50 - 40);
    const values = Array.from(f);
    expect(written(values)).toEqual(values.map(sevenDigits));
  });
});
