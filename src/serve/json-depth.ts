/** The deepest nesting of arrays and objects `POST /predict` accepts: rows are flat, a few levels suffice. */
export const MAX_JSON_DEPTH = 32;

/**
 * How deeply `text` nests `[`/`{` (outside strings), stopping as soon as it passes `limit`: a scan in
 * constant stack, so a body of 10,000 nested arrays is refused before anything recursive touches it.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
