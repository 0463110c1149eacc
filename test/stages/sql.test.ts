import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSpec } from '../../src/core/spec/load-spec.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import { stageKinds } from '../../src/stages/index.js';
import { runPipeline } from '../../src/core/run/run-pipeline.js';
import { reasonLine } from '../../src/render/reasons.js';
import { openSqlEngine, readerOf, sqlString } from '../../src/ml/sql-engine.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { repoRoot } from '../helpers/paths.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

async function load(set: string[] = []): Promise<PipelineSpec> {
  const loaded = await loadSpec(ws!.path('pipeline.yaml'), { kinds: stageKinds, set });
  if (!loaded.ok) throw new Error(`spec did not load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.spec;
}

const run = (spec: PipelineSpec) =>
  runPipeline({ spec, runsDir: join(ws!.dir, 'runs'), jobs: 1, backend: 'cpu', observers: [], signal: new AbortController().signal, explain: reasonLine });

/** Runs one statement in a fresh DuckDB (to make inputs and read outputs the way any other tool would). */
async function duck<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const spec = (query: string, output = 'out/clean.parquet') => `name: sqldemo
params:
  min_amount: 10
stages:
  clean:
    uses: sql
    with:
      inputs:
        raw: data/raw.parquet
        kinds: data/kinds.csv
      query: |
${query.split('\n').map((l) => `        ${l}`).join('\n')}
      output: ${output}
`;

const JOIN = `select r.id, r.amount, k.label
from raw r join kinds k using (kind)
where r.amount > \${params.min_amount}
order by r.id`;

async function workspace(query = JOIN, output?: string): Promise<void> {
  ws = await makeWorkspace({ 'pipeline.yaml': spec(query, output), 'data/kinds.csv': 'kind,label\na,first\nb,second\nc,third\n' });
  await duck(`copy (select range as id, ['a','b','c'][range % 3 + 1] as kind, range * 1.5 as amount from range(100)) to ${sqlString(ws.path('data/raw.parquet'))} (format parquet)`);
}

describe('sql stages (DuckDB)', () => {
  it('join a Parquet file and a CSV by name, write Parquet, and count the rows as a metric', async () => {
    await workspace();
    const result = await run(await load());
    expect(result.status).toBe('completed');
    expect(result.stages[0]).toMatchObject({ name: 'clean', status: 'completed', metrics: { rows: 93 } });
    const rows = await duck<{ id: string; amount: string; label: string }>(`select * from read_parquet(${sqlString(ws!.path('out/clean.parquet'))}) order by id limit 2`);
    expect(rows).toEqual([
      { id: '7', amount: '10.5', label: 'second' },
      { id: '8', amount: '12.0', label: 'third' },
    ]);
  });

  it('is cached on the query and the inputs: the same run restores; a param or an input byte change re-runs', async () => {
    await workspace(JOIN, 'out/clean.csv');
    expect((await run(await load())).stages[0]!.cached).toBe(false);
    const first = await readFile(ws!.path('out/clean.csv'), 'utf8');
    expect((await run(await load())).stages[0]!.cached).toBe(true);
    const fewer = await run(await load(['params.min_amount=100']));
    expect(fewer.stages[0]).toMatchObject({ cached: false, metrics: { rows: 33 } });
    await writeFile(ws!.path('data/kinds.csv'), 'kind,label\na,first\nb,second\nc,THIRD\n');
    const relabelled = await run(await load());
    expect(relabelled.stages[0]!.cached).toBe(false);
    expect(await readFile(ws!.path('out/clean.csv'), 'utf8')).toBe(first.replaceAll('third', 'THIRD'));
  });

  it('a bad query fails the stage with the engine message and the line of the query it points at', async () => {
    await workspace('select r.id\nfrom raw r\nwhere r.amout > 1');
    const result = await run(await load());
    expect(result.status).toBe('failed');
    const stage = result.stages[0]!;
    expect(stage.error).toMatch(/pipeline\.yaml:14:15: the query failed: Binder Error: .*amout/);
    expect(stage.lastLines?.join('\n')).toContain('LINE 3: where r.amout > 1');
  });

  it('a bad one-line query names its spec line and the column the engine points at', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: f\nstages:\n  x:\n    uses: sql\n    with:\n      query: select 1 as a frm range(3)\n      output: out/x.csv\n' });
    const result = await run(await load());
    expect(result.stages[0]!.error).toMatch(/pipeline\.yaml:6:28: the query failed: Parser Error: syntax error at or near "frm"/);
  });

  it('a string param lands as a quoted literal: a hostile value stays data', async () => {
    const hostile = "x'; drop table raw; --";
    await workspace('select count(*) as n, ${params.min_amount} as label from raw', 'out/n.json');
    const result = await run(await load([`params.min_amount=${JSON.stringify(hostile)}`]));
    expect(result.stages[0]).toMatchObject({ status: 'completed', metrics: { rows: 1 } });
    expect(JSON.parse(await readFile(ws!.path('out/n.json'), 'utf8'))).toEqual({ n: 100, label: hostile });
  });

  it('a param inside a quoted string or identifier is escaped for it; ${raw.params.x} pastes SQL text', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': `name: f
params: { who: "it's", col: 'a"b', expr: 'range * 2', evil: "1; drop table t" }
stages:
  x:
    uses: sql
    with:
      query: |
        select 'hi ' || '\${params.who}' as greeting, \${raw.params.expr} as "\${params.col}", \${params.evil} as evil from range(2)
      output: out/x.json
`,
    });
    const result = await run(await load());
    expect(result.stages[0]).toMatchObject({ status: 'completed' });
    const rows = (await readFile(ws.path('out/x.json'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual([
      { greeting: "hi it's", 'a"b': 0, evil: '1; drop table t' },
      { greeting: "hi it's", 'a"b': 2, evil: '1; drop table t' },
    ]);
  });

  it('a mapping param in a query is refused at load time, at its placeholder, with the raw hint', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: f\nparams: { m: { a: 1 } }\nstages:\n  x:\n    uses: sql\n    with:\n      query: select ${params.m} as m\n      output: out/x.csv\n' });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    const d = !loaded.ok ? loaded.diagnostics[0] : undefined;
    expect(d).toMatchObject({ message: 'expected a param that can be a SQL literal, got ${params.m} whose value is a mapping, which is not a SQL literal', pos: { line: 7, col: 21 } });
    expect(d?.hint).toContain('${raw.params.NAME}');
  });

  it('reads a folder of CSV files as one table', async () => {
    ws = await makeWorkspace({
      'pipeline.yaml': 'name: f\nstages:\n  total:\n    uses: sql\n    with:\n      inputs: { sales: data/sales }\n      query: select sum(amount) as total, count(*) as n from sales\n      output: out/total.json\n',
      'data/sales/2024.csv': 'day,amount\n2024-01-01,5\n2024-01-02,7\n',
      'data/sales/2025.csv': 'day,amount\n2025-01-01,30\n',
    });
    await mkdir(ws.path('out'), { recursive: true });
    const result = await run(await load());
    expect(result.stages[0]).toMatchObject({ status: 'completed', metrics: { rows: 1 } });
    expect(JSON.parse((await readFile(ws.path('out/total.json'), 'utf8')).trim())).toEqual({ total: 42, n: 3 });
  });

  it('refuses an output it cannot write at load time, with the spec position', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: f\nstages:\n  x:\n    uses: sql\n    with:\n      query: select 1\n      output: out/result.xlsx\n' });
    const loaded = await loadSpec(ws.path('pipeline.yaml'), { kinds: stageKinds });
    expect(loaded.ok).toBe(false);
    const d = !loaded.ok ? loaded.diagnostics[0]! : undefined;
    expect(d?.message).toContain('expected a file name ending in .parquet');
    expect(d?.pos?.line).toBe(7);
  });

  it('paths reach the engine as string literals, never as SQL', async () => {
    ws = await makeWorkspace({ "data/it's; drop.csv": 'a\n1\n' });
    const engine = await openSqlEngine();
    try {
      expect(await engine.first(`select count(*) as n from ${await readerOf(ws.path("data/it's; drop.csv"))}`)).toEqual({ n: '1' });
    } finally {
      engine.close();
    }
  });

  it('preprocess reads a Parquet file into the same dataset as the csv it was made from', async () => {
    const prep = (input: string) => `    uses: preprocess\n    with:\n      input: ${input}\n      target: species\n      split: { test: 0.2, seed: 7 }\n`;
    ws = await makeWorkspace({ 'pipeline.yaml': `name: p\nstages:\n  from_csv:\n${prep('data/iris.csv')}  from_parquet:\n${prep('data/iris.parquet')}` });
    await mkdir(ws.path('data'), { recursive: true });
    await copyFile(join(repoRoot, 'pipelines/iris/data/iris.csv'), ws.path('data/iris.csv'));
    await duck(`copy (select * from read_csv(${sqlString(ws.path('data/iris.csv'))})) to ${sqlString(ws.path('data/iris.parquet'))} (format parquet)`);
    const result = await run(await load());
    expect(result.status).toBe('completed');
    const dataset = (stage: string, file: string) => readFile(join(ws!.dir, 'runs', result.runId, stage, 'dataset', file));
    for (const split of ['train.bin', 'test.bin']) expect((await dataset('from_parquet', split)).equals(await dataset('from_csv', split))).toBe(true);
    const meta = async (stage: string) => JSON.parse((await dataset(stage, 'meta.json')).toString());
    expect((await meta('from_parquet')).features).toEqual((await meta('from_csv')).features);
  });
});
