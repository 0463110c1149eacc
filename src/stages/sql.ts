import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { f } from '../schema/fields.js';
import { StageFailedError, messageOf } from '../errors.js';
import type { ConfigIssue, StageKind } from '../core/stage-kind.js';
import { TABLE_EXTENSIONS, copyOptions, formatOf, openSqlEngine, readerOf, sqlIdentifier, sqlString } from '../ml/sql-engine.js';

export interface SqlConfig {
  inputs: Record<string, string>;
  query: string;
  output: string;
}

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

export const sql: StageKind<SqlConfig> = {
  kind: 'sql',
  version: 1,
  description: 'Runs a SQL query (DuckDB) over Parquet, CSV or JSON inputs and writes the result.',
  config,
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
      await engine.run(`COPY (\n${statementOf(ctx.config.query)}\n) TO ${sqlString(out)} ${copyOptions(format)}`).catch((err: unknown) => {
        const [first = '', ...rest] = queryError(err).split('\n');
        throw new StageFailedError(ctx.stage, `the query failed: ${first}`, { lastLines: rest.filter((l) => l.trim() !== '') });
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
