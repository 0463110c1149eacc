import { csvField } from '../core/csv-field.js';
import { paint, visibleWidth, type Style } from './ansi.js';

/** One cell: its text and how it is styled (colour on a terminal, bold in markdown). */
export interface Cell {
  text: string;
  styles?: Style[];
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** A row of cells, or a section title spanning the table (`params`, `metrics`). */
export type Row = { cells: (Cell | string)[] } | { section: string };

/** A table before rendering; the same value renders as terminal text or markdown. */
export interface Table {
  columns: Column[];
  rows: Row[];
}

const cellOf = (c: Cell | string | undefined): Cell => (typeof c === 'string' ? { text: c } : (c ?? { text: '' }));

/** Plain-text columns separated by two spaces, header in bold; trailing spaces trimmed. */
export function renderTable(table: Table, opts: { color?: boolean; indent?: string } = {}): string {
  const color = opts.color ?? false;
  const indent = opts.indent ?? '';
  const widths = table.columns.map((c) => visibleWidth(c.header));
  for (const row of table.rows) {
    if (!('cells' in row)) continue;
    row.cells.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cellOf(c).text))));
  }
  const line = (cells: Cell[]) =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i] - visibleWidth(c.text)));
        const text = paint(c.text, c.styles ?? [], color);
        return table.columns[i]?.align === 'right' ? pad + text : text + pad;
      })
      .join('  ')
      .trimEnd();
  const out = [line(table.columns.map((c) => ({ text: c.header, styles: ['bold'] as Style[] })))];
  for (const row of table.rows) {
    if ('section' in row) out.push(indent + paint(row.section, ['bold'], color));
    else out.push(line(table.columns.map((_, i) => cellOf(row.cells[i]))));
  }
  return `${out.join('\n')}\n`;
}

/** A GitHub-flavoured markdown table; bold cells in `**`, section rows as bold first cells. */
export function renderMarkdown(table: Table): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const md = (c: Cell) => (c.text && c.styles?.includes('bold') ? `**${esc(c.text)}**` : esc(c.text));
  const lines = [
    `| ${table.columns.map((c) => esc(c.header)).join(' | ')} |`.replace(/ {2}\|/g, ' |'),
    `|${table.columns.map((c) => (c.align === 'right' ? ' ---: ' : ' --- ')).join('|')}|`,
  ];
  for (const row of table.rows) {
    const cells = 'section' in row ? [`**${esc(row.section)}**`, ...table.columns.slice(1).map(() => '')] : table.columns.map((_, i) => md(cellOf(row.cells[i])));
    lines.push(`| ${cells.join(' | ')} |`.replace(/ {2}\|/g, ' |'));
  }
  return `${lines.join('\n')}\n`;
}

/** RFC 4180 CSV: fields with commas, quotes or line breaks quoted, CRLF-free (`\n` line ends). */
export function renderCsv(rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
