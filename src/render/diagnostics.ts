import type { Diagnostic } from '../schema/diagnostic.js';
import { paint, type Style } from './ansi.js';

export interface FormatOptions {
  color: boolean;
  /** The spec file named in the closing line; defaults to the first diagnostic's file. */
  file?: string;
  /** The command that checks the file again, named in the closing line; default: `mlpipe validate FILE`. */
  recheck?: string;
}

const painter = (style: Style) => (on: boolean, s: string): string => paint(s, [style], on);
const bold = painter('bold');
const dim = painter('dim');
const red = painter('red');
const yellow = painter('yellow');
const cyan = painter('cyan');

/**
 * Renders diagnostics for a terminal, one block each:
 *
 *     pipeline.yaml:12:5 stages.train.with.epochs: expected an integer ≥ 1, got 0
 *       12 |     epochs: 0
 *          |             ^
 *       hint: …
 *
 * then a closing line: `2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml`.
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], opts: FormatOptions): string {
  const c = opts.color;
  const blocks = diagnostics.map((d) => {
    const where = d.pos ? `${d.file}:${d.pos.line}:${d.pos.col}` : `${d.file}:`;
    const path = d.path ? ` ${d.path}:` : '';
    const severity = d.severity === 'warning' ? `${yellow(c, 'warning:')} ` : '';
    const lines = [`${bold(c, where)}${path} ${severity}${d.severity === 'error' ? red(c, d.message) : d.message}`];
    if (d.pos && d.sourceLine !== undefined) {
      const gutter = String(d.pos.line);
      const pad = ' '.repeat(gutter.length);
      lines.push(`  ${dim(c, `${gutter} |`)} ${d.sourceLine.replace(/\t/g, ' ')}`);
      lines.push(`  ${dim(c, `${pad} |`)} ${' '.repeat(Math.max(d.pos.col - 1, 0))}${(d.severity === 'error' ? red : yellow)(c, '^')}`);
    }
    if (d.hint) lines.push(`  ${cyan(c, 'hint:')} ${d.hint}`);
    return lines.join('\n');
  });
  return `${[...blocks, summaryLine(diagnostics, opts)].join('\n\n')}\n`;
}

function summaryLine(diagnostics: readonly Diagnostic[], opts: FormatOptions): string {
  const file = opts.file ?? diagnostics[0]?.file ?? 'the spec';
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const counts = [errors ? count(errors, 'error') : '', warnings ? count(warnings, 'warning') : ''].filter(Boolean).join(' and ');
  if (errors === 0) return warnings === 0 ? `no problems in ${file}` : `${counts} in ${file}`;
  const line = `${counts} in ${file} — fix ${errors === 1 ? 'it' : 'them'} and run: ${opts.recheck ?? `mlpipe validate ${file}`}`;
  return bold(opts.color, line);
}
