import type { ByteWriter } from './byte-writer.js';

/**
 * `String(Number(v.toPrecision(7)))` (a number to 7 significant digits, written the shortest way
 * JavaScript writes it) without parsing the digits back: toPrecision's own text with the trailing
 * zeros of its fraction dropped is that text wherever both write the same notation, that is
 * below 1e7 in magnitude (toPrecision turns to exponents from 1e7, String from 1e21; both below
 * 1e-6). Larger values, and subnormal ones (whose 7 digits do not all survive the way back), take
 * the long way.
 */
export function sevenDigits(v: number): string {
  const s = v.toPrecision(7);
  if (s.indexOf('+') >= 0 || (v !== 0 && Math.abs(v) < 1e-300)) return String(Number(s));
  const dot = s.indexOf('.');
  if (dot < 0) return s;
  const e = s.indexOf('e');
  const end = e < 0 ? s.length : e;
  let last = end - 1;
  while (s.charCodeAt(last) === 48) last--;
  if (last === dot) last--;
  const digits = s.slice(0, last + 1);
  if (e >= 0) return digits + s.slice(e);
  return digits === '-0' ? '0' : digits;
}

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** The doubles nearest 10^e for e from -38 to 6, at index e + 38. */
const EXP10 = Array.from({ length: 45 }, (_, i) => Number(`1e${i - 38}`));

/**
 * Writes `sevenDigits(v)` into `w` without building the string, for magnitudes from 1e-38 to
 * below 1e7 (float32 outputs). The 7 digits are `round(|v| · 10^(6-e))`, one or two correctly
 * rounded multiplications by exact powers of ten, so off by at most some 1e-9 from the exact
 * product; a product that close to a rounding tie, and every other value, takes sevenDigits.
 */
export function writeSevenDigits(w: ByteWriter, v: number): void {
  const a = Math.abs(v);
  if (!(a >= 1e-38 && a < 1e7)) {
    w.text(sevenDigits(v));
    return;
  }
  let e = 6;
  while (a < EXP10[e + 38]!) e--;
  const k = 6 - e;
  const scaled = k <= 22 ? a * POW10[k]! : a * 1e22 * POW10[k - 22]!;
  let m = Math.floor(scaled);
  const frac = scaled - m;
  if (Math.abs(frac - 0.5) < 1e-7) {
    w.text(sevenDigits(v));
    return;
  }
  if (frac > 0.5) m++;
  if (m >= 1e7) {
    m = 1e6;
    e++;
  }
  if (m < 1e6 || e >= 7) {
    w.text(sevenDigits(v));
    return;
  }
  if (v < 0) w.byte(0x2d);
  const lead = e >= 0 ? e + 1 : 1;
  let fraction = 7 - lead;
  const unit = POW10[fraction]!;
  const whole = Math.floor(m / unit);
  let rest = m - whole * unit;
  while (fraction > 0 && rest % 10 === 0) {
    rest /= 10;
    fraction--;
  }
  if (e < 0 && e >= -6) {
    w.byte(0x30);
    w.byte(0x2e);
    for (let z = -1; z > e; z--) w.byte(0x30);
    w.digits(whole, 1);
    if (fraction > 0) w.digits(rest, fraction);
    return;
  }
  w.uint(whole);
  if (fraction > 0) {
    w.byte(0x2e);
    w.digits(rest, fraction);
  }
  if (e < 0) {
    w.byte(0x65);
    w.byte(0x2d);
    w.uint(-e);
  }
}
