import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { f, type Infer } from '../schema/fields.js';
import { StageFailedError, messageOf } from '../errors.js';
import type { ConfigIssue, StageContext, StageKind } from '../core/stage-kind.js';
import { specPosition } from '../core/spec/text-anchor.js';
import { TABLE_EXTENSIONS, copyOptions, formatOf, openSqlEngine, readerOf, sqlIdentifier, sqlString } from '../ml/sql-engine.js';

/** The resolved `with` block of a sql stage, derived from its declaration below. */
export type SqlConfig = Infer<typeof config>;

const config = f.object(
  'Runs one SQL query (DuckDB) over files and writes its result: joins, filters and feature engineering between stages.',
  {
    inputs: f.map(
      'The tables the query reads, each a view named by its key: a Parquet, CSV/TSV or JSON(L) file, or a folder of them (types sniffed by the engine); part of the cache key.',
      f.path('A file or folder; usually data/… or ${stages.X.outputs.Y}.'),
      { keyPattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: {} },
    ),
    query: f.string('One SELECT (DuckDB SQL) over the inputs by name, e.g. `select * from raw where amount > 0`; its text is part of the cache key.'),
    output: f.string(`Where the result is written, relative to the spec folder; the format follows the extension (${TABLE_EXTENSIONS.join(', ')}).`, { path: 'output' }),
  },
  { required: ['query', 'output'] },
);

/** The query without the semicolons and blanks that may close it (it is wrapped in a COPY). */
function statementOf(query: string): string {
  return query.replace(/[\s;]+$/, '');
}

function check(c: SqlConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!formatOf(c.output)) issues.push({ path: ['output'], message: `expected a file name ending in ${TABLE_EXTENSIONS.join(', ')}, got "${c.output}"`, hint: 'e.g. output: out/clean.parquet' });
  if (statementOf(c.query).trim() === '') issues.push({ path: ['query'], message: 'expected a SELECT statement, got an empty query' });
  return issues;
}

/**
 * The engine's message for a query that failed, its `LINE n:` counted in the query's own lines
 * (the query starts on the second line of the COPY statement that runs it).
 */
function queryError(err: unknown): string {
  return messageOf(err).replace(/^LINE (\d+):/gm, (_, n: string) => `LINE ${Math.max(1, Number(n) - 1)}:`.padEnd(`LINE ${n}:`.length));
}

/**
 * Line and column (1-based, in the query's own lines) of the engine's `LINE n: …` excerpt and the
 * caret under it; a long line is shown cut short with `...`, so the excerpt is found in the query line.
 */
export function errorPosition(message: string, query: string): { line: number; col: number } | undefined {
  const m = /^(LINE (\d+): )(.*)\n( *)\^/m.exec(message);
  if (!m) return undefined;
  const line = Number(m[2]);
  const caret = m[4]!.length - m[1]!.length;
  const shown = m[3]!;
  const text = query.split('\n')[line - 1] ?? '';
  if (!shown.startsWith('...')) return { line, col: caret + 1 };
  const at = text.indexOf(shown.slice(3).replace(/\.\.\.$/, ''));
  return { line, col: at < 0 ? 1 : at + caret - 3 + 1 };
}

/** `file:line:col` of the failed query in the spec (the query node when the engine names no position). */
function specLocation(ctx: { source?: StageContext['source']; workspace: string }, message: string, query: string): string | undefined {
  const anchor = ctx.source?.anchors.query;
  if (!anchor) return undefined;
  const at = errorPosition(message, query);
  const pos = at ? specPosition(anchor, at.line, at.col) : anchor;
  const shown = relative(process.cwd(), ctx.source!.file);
  return `${shown.startsWith('..') ? ctx.source!.file : shown}:${pos.line}:${pos.col}`;
}

export const sql: StageKind<SqlConfig> = {
  kind: 'sql',
  version: 1,
  description: 'Runs a SQL query (DuckDB) over Parquet, CSV or JSON inputs and writes the result.',
  config,
  sql: ['query'],
  check,
  outputs: (c) => ({ data: { path: c.output, location: 'workspace' } }),
  async run(ctx) {
    const out = ctx.outputs.data!;
    const format = formatOf(out)!;
    const engine = await openSqlEngine();
    const stop = () => engine.interrupt();
    ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      await engine.run(`SET temp_directory = ${sqlString(join(ctx.outDir, 'duckdb-tmp'))}`);
      for (const [name, path] of Object.entries(ctx.config.inputs)) {
        const from = await readerOf(path).catch((err: unknown) => {
          throw new StageFailedError(ctx.stage, `input ${name}: ${messageOf(err)}`);
        });
        await engine.run(`CREATE VIEW ${sqlIdentifier(name)} AS SELECT * FROM ${from}`);
      }
      await mkdir(dirname(out), { recursive: true });
      ctx.progress('running the query');
      const query = statementOf(ctx.config.query);
      await engine.run(`COPY (\n${query}\n) TO ${sqlString(out)} ${copyOptions(format)}`).catch((err: unknown) => {
        const message = queryError(err);
        const [first = '', ...rest] = message.split('\n');
        const at = specLocation(ctx, message, query);
        throw new StageFailedError(ctx.stage, `${at ? `${at}: ` : ''}the query failed: ${first}`, { lastLines: rest.filter((l) => l.trim() !== '') });
      });
      const counted = await engine.first(`SELECT count(*) AS n FROM ${await readerOf(out)}`);
      const rows = Number(counted?.n ?? 0);
      ctx.log(`wrote ${rows} row(s) to ${relative(ctx.workspace, out) || out}`);
      return { metrics: { rows } };
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      engine.close();
    }
  },
};
