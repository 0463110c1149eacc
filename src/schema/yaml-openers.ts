import { Parser } from 'yaml';

/** A bracket or quote that opens a flow collection or quoted scalar and is never closed. */
export interface UnclosedOpener {
  /** `[`, `{`, `"` or `'`. */
  char: string;
  offset: number;
}

const CLOSERS: Record<string, string> = { 'flow-seq-start': 'flow-seq-end', 'flow-map-start': 'flow-map-end' };

/**
 * The unclosed opener nearest before `before` (default: the end of the text), read from the `yaml`
 * package's concrete syntax tree: a flow collection whose `end` lacks its `]`/`}`, or a quoted scalar
 * without its closing quote. The parser reports such an error where it gave up (often the next
 * line); this is where the problem began.
 */
export function findUnclosedOpener(text: string, before = text.length + 1): UnclosedOpener | undefined {
  let found: UnclosedOpener | undefined;
  const consider = (candidate: UnclosedOpener) => {
    if (candidate.offset < before && (found === undefined || candidate.offset >= found.offset)) found = candidate;
  };
  const visit = (token: unknown): void => {
    if (Array.isArray(token)) {
      token.forEach(visit);
      return;
    }
    if (typeof token !== 'object' || token === null) return;
    const t = token as { type?: string; offset?: number; source?: string; start?: { type?: string; source?: string; offset?: number }; end?: Array<{ type?: string }> };
    if (t.type === 'flow-collection' && t.start?.type && CLOSERS[t.start.type]) {
      const closed = (t.end ?? []).some((e) => e.type === CLOSERS[t.start!.type!]);
      if (!closed) consider({ char: t.start.source ?? '[', offset: t.start.offset! });
    } else if ((t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && typeof t.source === 'string') {
      const quote = t.type === 'double-quoted-scalar' ? '"' : "'";
      if (!isClosedQuote(t.source, quote)) consider({ char: quote, offset: t.offset! });
    }
    for (const [key, value] of Object.entries(t)) if (key !== 'source' && typeof value === 'object') visit(value);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return found;
}

function isClosedQuote(source: string, quote: string): boolean {
  if (source.length < 2 || !source.endsWith(quote)) return false;
  if (quote === "'") return (source.slice(1, -1).match(/'+$/)?.[0].length ?? 0) % 2 === 0;
  return (source.slice(1, -1).match(/\\+$/)?.[0].length ?? 0) % 2 === 0;
}
