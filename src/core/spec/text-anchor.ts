import type { SourcePos } from '../../schema/diagnostic.js';
import type { TextAnchor } from '../stage-kind.js';

export type { TextAnchor };

/** The anchor of the value whose node starts at `pos` in a file of `lines`. */
export function textAnchor(lines: readonly string[], pos: SourcePos): TextAnchor {
  const at = lines[pos.line - 1] ?? '';
  const head = at.slice(pos.col - 1);
  if (/^\|[-+0-9]*\s*(#.*)?$/.test(head)) {
    for (let l = pos.line; l < lines.length; l++) {
      const text = lines[l]!;
      if (text.trim() === '') continue;
      return { line: l + 1, col: text.length - text.trimStart().length + 1, style: 'block' };
    }
    return { ...pos, style: 'node' };
  }
  if (head.startsWith('>')) return { ...pos, style: 'node' };
  const quoted = head.startsWith("'") || head.startsWith('"');
  const next = lines[pos.line];
  const indent = (text: string) => text.length - text.trimStart().length;
  const continues = !quoted && next !== undefined && next.trim() !== '' && indent(next) > indent(at);
  const closed = !quoted || head.slice(1).includes(head[0]!);
  if (continues || !closed) return { ...pos, style: 'node' };
  return { line: pos.line, col: pos.col + (quoted ? 1 : 0), style: 'inline' };
}

/** The spec position of line `line`, column `col` (both 1-based) of the text anchored at `anchor`. */
export function specPosition(anchor: TextAnchor, line: number, col: number): SourcePos {
  if (anchor.style === 'block') return { line: anchor.line + line - 1, col: anchor.col + col - 1 };
  if (anchor.style === 'inline' && line === 1) return { line: anchor.line, col: anchor.col + col - 1 };
  return { line: anchor.line, col: anchor.col };
}
