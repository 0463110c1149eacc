/**
 * A value (a slice value, a feature name) as one part of a dotted metric key that gate and
 * `--fail-if` expressions can name: runs of other characters than letters, digits and `_` become
 * one `_` (`Biscoe Island` → `Biscoe_Island`); a missing value (`''`) is `_missing`.
 */
export function metricKeyPart(value: string): string {
  if (value === '') return '_missing';
  const part = value.replace(/[^A-Za-z0-9_]+/g, '_');
  return part === '' ? '_' : part;
}

/** `metricKeyPart` of each value, failing with `onClash(a, b, part)` when two different values would share a key. */
export function metricKeyParts(values: readonly string[], onClash: (a: string, b: string, part: string) => never): Map<string, string> {
  const byPart = new Map<string, string>();
  const out = new Map<string, string>();
  for (const v of values) {
    const part = metricKeyPart(v);
    const other = byPart.get(part);
    if (other !== undefined && other !== v) onClash(other, v, part);
    byPart.set(part, v);
    out.set(v, part);
  }
  return out;
}
