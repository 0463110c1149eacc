/** How text is cut into tokens. */
export type TokenizerName = 'word' | 'char' | 'whitespace';

/** The padding token, always id 0. */
export const PAD_TOKEN = '<pad>';

// Made on first use: creating a segmenter loads ICU's break rules (tens of ms), and every CLI start
// loads this module through the stage registry.
let wordSegmenter: Intl.Segmenter | undefined;
let graphemeSegmenter: Intl.Segmenter | undefined;

/**
 * Cuts text into tokens.
 * - `word`: Unicode word boundaries (Intl.Segmenter), keeping word-like segments only, so
 *   punctuation and spaces go and languages without spaces (我爱中国 → 我 | 爱 | 中国) still split into words;
 * - `char`: user-perceived characters (grapheme clusters), whitespace dropped;
 * - `whitespace`: runs of non-space characters, punctuation kept.
 */
export function tokenize(text: string, tokenizer: TokenizerName, lowercase = false): string[] {
  const s = lowercase ? text.toLowerCase() : text;
  if (tokenizer === 'whitespace') return s.split(/\s+/u).filter((t) => t.length > 0);
  const out: string[] = [];
  if (tokenizer === 'word') {
    for (const seg of (wordSegmenter ??= new Intl.Segmenter('und', { granularity: 'word' })).segment(s)) if (seg.isWordLike) out.push(seg.segment);
  } else {
    for (const seg of (graphemeSegmenter ??= new Intl.Segmenter('und', { granularity: 'grapheme' })).segment(s)) if (seg.segment.trim()) out.push(seg.segment);
  }
  return out;
}

/**
 * A vocabulary: `<pad>` (id 0), the OOV token (id 1), then the most frequent tokens, at most
 * `maxSize` entries in all. Ties in frequency go to the token first in code-unit order, so the same
 * documents always give the same vocabulary.
 */
export function buildVocab(docs: Iterable<string[]>, maxSize: number, oovToken: string): string[] {
  if (!Number.isInteger(maxSize) || maxSize < 2) throw new RangeError(`vocabulary size must be an integer >= 2 (got ${maxSize})`);
  const counts = new Map<string, number>();
  for (const doc of docs) for (const t of doc) counts.set(t, (counts.get(t) ?? 0) + 1);
  counts.delete(PAD_TOKEN);
  counts.delete(oovToken);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [PAD_TOKEN, oovToken, ...ranked.slice(0, maxSize - 2).map(([t]) => t)];
}

/** Token → id for a vocabulary built by `buildVocab`. */
export function vocabIndex(vocab: readonly string[]): Map<string, number> {
  return new Map(vocab.map((t, i) => [t, i]));
}

/** How a sequence is brought to a fixed length. */
export interface SequenceOptions {
  maxLength: number;
  /** Where padding zeros go when the text is short. */
  padding: 'pre' | 'post';
  /** Which end is cut when the text is long. */
  truncating: 'pre' | 'post';
}

/** Writes the ids of `tokens` (unknown tokens → 1) into `out` at `offset`, padded/truncated to `maxLength`. */
export function encodeTokens(
  tokens: readonly string[],
  index: ReadonlyMap<string, number>,
  opts: SequenceOptions,
  out: Int32Array | Float32Array,
  offset = 0,
): void {
  const { maxLength } = opts;
  const kept = tokens.length <= maxLength ? tokens : opts.truncating === 'pre' ? tokens.slice(tokens.length - maxLength) : tokens.slice(0, maxLength);
  const start = opts.padding === 'pre' ? maxLength - kept.length : 0;
  out.fill(0, offset, offset + maxLength);
  for (let i = 0; i < kept.length; i++) out[offset + start + i] = index.get(kept[i]!) ?? 1;
}
