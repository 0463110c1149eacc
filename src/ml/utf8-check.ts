import { createReadStream } from 'node:fs';
import { DataError } from './errors.js';

/** The character a UTF-8 reader puts where bytes are not UTF-8. */
export const REPLACEMENT = '\uFFFD';

/**
 * Text read from `path` holds U+FFFD (first on `line`): a DataError when the file really is not
 * UTF-8 (a latin-1 file's `ä` would otherwise become one category with `ö` and `ü`, and predict
 * would see categories the model never learned), nothing when the file spells the character
 * itself. The file is decoded a chunk at a time, so a large file is not held in memory.
 */
export async function checkUtf8(path: string, file: string, line: number): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) decoder.decode(chunk, { stream: true });
    decoder.decode();
  } catch (err) {
    if (!(err instanceof TypeError)) throw new DataError(`cannot be read: ${(err as Error).message}`, { file, cause: err });
    throw new DataError('is not UTF-8 text: its bytes are not valid UTF-8 (first seen in this line)', {
      file,
      line,
      hint: 'convert it: iconv -f latin1 -t utf-8 in.csv > out.csv (for a preprocess stage, `file_encoding: latin-1` or utf-16 reads it in its encoding)',
    });
  } finally {
    source.destroy();
  }
}

/** The 1-based line of `text`'s first U+FFFD, `text` starting after `linesBefore` lines; undefined when it has none. */
export function replacementLine(text: string, linesBefore: number): number | undefined {
  const at = text.indexOf(REPLACEMENT);
  if (at < 0) return undefined;
  let line = linesBefore + 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
