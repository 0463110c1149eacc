import type { Style } from '../ansi.js';
import type { Cell, Table } from '../table.js';

const CLASS: Partial<Record<Style, string>> = { green: 'better', red: 'worse', bold: 'best', cyan: 'changed', dim: 'dim', yellow: 'warn' };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A table model as an HTML table; cell styles become classes (better, worse, best, changed). */
export function tableHtml(table: Table, className: string): string {
  const head = `<thead><tr>${table.columns.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('')}</tr></thead>`;
  const body = table.rows
    .map((row) => {
      if ('section' in row) return `<tr class="section"><th colspan="${table.columns.length}">${escapeHtml(row.section)}</th></tr>`;
      return `<tr>${table.columns
        .map((_, i) => {
          const raw = row.cells[i];
          const cell: Cell = typeof raw === 'string' ? { text: raw } : (raw ?? { text: '' });
          const classes = (cell.styles ?? []).map((s) => CLASS[s]).filter(Boolean);
          const tag = i === 0 ? 'th' : 'td';
          return `<${tag}${classes.length ? ` class="${classes.join(' ')}"` : ''}>${escapeHtml(cell.text.trim())}</${tag}>`;
        })
        .join('')}</tr>`;
    })
    .join('\n');
  return `<table class="${className}">${head}<tbody>\n${body}\n</tbody></table>`;
}

export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; white-space: nowrap; }
thead th { background: #f6f8fa; } tbody th { font-weight: 500; }
tr.section th { background: #eef1f4; font-weight: 600; text-transform: uppercase; font-size: .8rem; letter-spacing: .04em; }
td.better { color: #1a7f37; } td.worse { color: #cf222e; } td.best { font-weight: 700; } td.changed { background: #fff8c5; }
.legend, .note { color: #57606a; font-size: .9rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure.chart { margin: 0; } figure.chart figcaption { font-size: .85rem; color: #57606a; }
.failed { color: #cf222e; font-weight: 600; }
.failure { color: #cf222e; margin: .2rem 0 .6rem; } .failure pre.tail { color: #1f2328; background: #f6f8fa; border: 1px solid #d0d7de; padding: .4rem .6rem; font-size: .8rem; overflow-x: auto; }
`;
