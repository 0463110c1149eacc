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
