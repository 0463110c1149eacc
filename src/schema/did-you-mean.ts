/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `input`, if one is close enough to be a likely typo (ties: the first candidate). */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? closestByPrefix(lower, candidates);
}

/**
 * A candidate that starts the input or that the input starts (`dataset` → `data`), both at least 3 letters long; the
 * nearest in length wins among nested ones (`valid` → `validation` over `validation_split`). Matches that branch
 * (`baseline` → `baseline.accuracy`, `baseline.loss`) are a question for the user, not a typo: none is suggested.
 */
function closestByPrefix(lower: string, candidates: Iterable<string>): string | undefined {
  const matches: string[] = [];
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (Math.min(c.length, lower.length) >= 3 && c !== lower && (c.startsWith(lower) || lower.startsWith(c))) matches.push(candidate);
  }
  const nested = (a: string, b: string) => a.toLowerCase().startsWith(b.toLowerCase()) || b.toLowerCase().startsWith(a.toLowerCase());
  if (!matches.every((a) => matches.every((b) => nested(a, b)))) return undefined;
  let best: string | undefined;
  for (const m of matches) if (best === undefined || Math.abs(m.length - lower.length) < Math.abs(best.length - lower.length)) best = m;
  return best;
}

/** `did you mean "epochs"?`, or undefined when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>, render: (s: string) => string = (s) => `"${s}"`): string | undefined {
  const match = closestMatch(input, candidates);
  return match === undefined ? undefined : `did you mean ${render(match)}?`;
}
