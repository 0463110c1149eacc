import { describe, expect, it } from 'vitest';
import { sevenDigits } from '../../src/core/seven-digits.js';

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
