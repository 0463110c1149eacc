import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { splitRows } from '../../src/ml/split.js';
import { openSqlEngine, sqlString } from '../../src/ml/sql-engine.js';
import { irisRegistry, type IrisRegistry } from './iris-models.js';

let reg: IrisRegistry;
const cli = (...args: string[]) => runCli(args, { cwd: reg.dir, env: reg.env });
const json = (...args: string[]) => runJson(args, { cwd: reg.dir, env: reg.env });

beforeAll(async () => {
  reg = await irisRegistry();
});
afterAll(() => reg?.cleanup());

describe('mlpipe models', () => {
  it('list: every version with aliases, source run and key metrics, newest first', async () => {
    const { code, json: out } = await json('models', 'list');
    expect(code).toBe(0);
    expect(out.schemaVersion).toBe(1);
    expect(out.models.map((m: any) => [m.name, m.version, m.aliases, m.runId])).toEqual([
      ['iris', 2, [], reg.runIds[1]],
      ['iris', 1, [], reg.runIds[0]],
    ]);
    expect(Object.keys(out.models[0].keyMetrics)).toEqual(['accuracy', 'f1', 'log_loss']);
    const human = await cli('models', 'list', 'iris');
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+ALIASES\s+RUN\s+METRICS\s+CREATED$/);
    expect(human.stdout).toMatch(new RegExp(`iris\\s+v1\\s+${reg.runIds[0]}\\s+accuracy=`));
    expect((await cli('models', 'list', 'nothing')).stdout).toBe('no versions of nothing are registered; list every model with: mlpipe models list\n');
  });

  it('show: facts, input signature and an example request; an unknown version exits 2 listing the versions', async () => {
    const { code, json: d } = await json('models', 'show', 'iris@1');
    expect(code).toBe(0);
    expect(d).toMatchObject({ name: 'iris', version: 1, runId: reg.runIds[0], dir: join(reg.runsDir, 'models', 'iris', '1') });
    expect(d.signature).toMatchObject({ task: 'multiclass', inputKind: 'tabular', labels: ['setosa', 'versicolor', 'virginica'], trainedOn: 'cpu' });
    expect(d.signature.features.map((f: any) => f.name)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(Object.keys(d.signature.exampleRequest.instances[0])).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    const human = await cli('models', 'show', 'iris');
    expect(human.stdout).toContain('model iris v2\n');
    expect(human.stdout).toContain('example request (POST /predict)\n  {"instances":[{"sepal_length":');
    const missing = await cli('models', 'show', 'iris@7');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('Error: no registered model matches "iris@7": iris has v2, v1\nHint: list models with: mlpipe models list\n');
    const bad = await json('models', 'show', 'iris@');
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toBe('invalid model reference "iris@": nothing follows "@"');
  });

  it('promote and rollback move the alias and report the previous holder', async () => {
    expect((await json('models', 'promote', 'iris@1', '--alias', 'production')).json).toEqual({ schemaVersion: 1, name: 'iris', alias: 'production', version: 1, previous: null, changed: true });
    const second = await cli('models', 'promote', 'iris@2');
    expect(second).toMatchObject({ code: 0, stdout: 'promoted: iris@production → v2 (was v1)\n' });
    expect((await json('models', 'list')).json.models.map((m: any) => m.aliases)).toEqual([['production'], []]);
    expect((await json('models', 'rollback', 'iris', '--alias', 'production')).json).toMatchObject({ version: 1, previous: 2, changed: true });
    expect((await json('models', 'show', 'iris@production')).json.version).toBe(1);
    const again = await cli('models', 'rollback', 'iris@production');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('cannot roll back iris@production: v1 is the only version that has held it');
    const unknown = await cli('models', 'promote', 'iris@5', '--alias', 'production');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no registered model matches "iris@5": iris has v2, v1 (production)');
  });
});

describe('mlpipe predict', () => {
  it('gives exactly the evaluate stage\'s predictions for the same raw test rows', async () => {
    const source = (await readFile(join(reg.dir, 'iris', 'data', 'iris.csv'), 'utf8')).trim().split('\n');
    const header = source[0]!;
    const rows = source.slice(1);
    const labels = ['setosa', 'versicolor', 'virginica'];
    const strata = rows.map((r) => labels.indexOf(r.split(',').at(-1)!));
    const { test } = splitRows(rows.length, { test: 0.2, validation: 0.1, seed: 42, shuffle: true, strata });
    await writeFile(join(reg.dir, 'test-rows.csv'), `${header}\n${test.map((i) => rows[i]).join('\n')}\n`);
    const r = await cli('predict', 'iris@1', '--input', 'test-rows.csv', '--output', 'scored.csv');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('wrote 30 predictions of iris v1 to scored.csv');
    const evaluated = (await readFile(join(reg.runsDir, reg.runIds[0], 'evaluate', 'predictions.csv'), 'utf8')).trim().split('\n');
    const scored = (await readFile(join(reg.dir, 'scored.csv'), 'utf8')).trim().split('\n');
    expect(evaluated[0]).toBe('row,source_row,actual,predicted,p_setosa,p_versicolor,p_virginica');
    expect(scored[0]).toBe(`row,${header},predicted,p_setosa,p_versicolor,p_virginica`);
    expect(scored).toHaveLength(31);
    const fromEvaluate = evaluated.slice(1).map((l) => l.split(',').slice(2));
    const fromPredict = scored.slice(1).map((l) => [l.split(',')[5], ...l.split(',').slice(6)]);
    expect(fromPredict).toEqual(fromEvaluate);
    // source_row joins each evaluated prediction back to its data row in iris.csv
    expect(evaluated.slice(1).map((l) => Number(l.split(',')[1]))).toEqual(test.map((i) => i + 1));
  });

  it('writes jsonl to stdout, returns predictions with --json, and exits 2 naming the bad cell', async () => {
    await writeFile(join(reg.dir, 'new.jsonl'), '{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}\n{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}\n');
    const out = await cli('predict', 'iris@production', '--input', 'new.jsonl');
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.predicted)).toEqual(['setosa', 'virginica']);
    const j = await json('predict', 'iris@2', '--input', 'new.jsonl');
    expect(j.json).toMatchObject({ schemaVersion: 1, model: { name: 'iris', version: 2 }, backend: 'cpu', rows: 2, format: 'jsonl', output: null });
    expect(j.json.predictions.map((p: any) => p.label)).toEqual(['setosa', 'virginica']);
    await writeFile(join(reg.dir, 'bad.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,three,5.2,2.3\n');
    const bad = await cli('predict', 'iris', '--input', 'bad.csv');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Error: bad.csv:3 (row 2), column "sepal_width": expected a number, got "three"');
    expect(bad.stdout).toBe('');
  });

  it('--output x.parquet writes the rows the CSV output holds (read back with DuckDB); parquet to stdout is exit 2 with a hint', async () => {
    const csv = await cli('predict', 'iris@1', '--input', join('iris', 'data', 'iris.csv'), '--output', 'all.csv');
    const parquet = await cli('predict', 'iris@1', '--input', join('iris', 'data', 'iris.csv'), '--output', 'all.parquet');
    expect([csv.code, parquet.code]).toEqual([0, 0]);
    expect(parquet.stderr).toContain('wrote 150 predictions of iris v1 to all.parquet');
    const engine = await openSqlEngine();
    try {
      const { columns, rows } = await engine.rows(`SELECT * FROM read_parquet(${sqlString(join(reg.dir, 'all.parquet'))})`);
      const lines = (await readFile(join(reg.dir, 'all.csv'), 'utf8')).trim().split('\n');
      expect(columns.join(',')).toBe(lines[0]);
      expect(rows.map((r) => r.map((v, j) => (j === 0 || typeof v === 'number' ? Number(v) : String(v))))).toEqual(lines.slice(1).map((l) => l.split(',').map((v) => (/^[\d.e-]+$/.test(v) ? Number(v) : v))));
    } finally {
      engine.close();
    }
    const stdout = await cli('predict', 'iris@1', '--input', join('iris', 'data', 'iris.csv'), '--format', 'parquet');
    expect(stdout.code).toBe(2);
    expect(stdout.stderr).toContain('Parquet predictions need a file');
    expect(stdout.stderr).toContain('Hint: pass --output predictions.parquet');
  });

  it('--explain adds finite explain.<feature> contributions per row, in which the petal features dominate', async () => {
    const r = await cli('predict', 'iris@1', '--input', join('iris', 'data', 'iris.csv'), '--explain');
    expect(r.code).toBe(0);
    const [header, ...lines] = r.stdout.trim().split('\n');
    const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    expect(header).toBe(`row,${features.join(',')},species,predicted,p_setosa,p_versicolor,p_virginica,${features.map((f) => `explain.${f}`).join(',')}`);
    expect(lines).toHaveLength(150);
    const meanAbs = features.map((_, f) => lines.reduce((sum, l) => {
      const v = Number(l.split(',')[10 + f]);
      expect(Number.isFinite(v)).toBe(true);
      return sum + Math.abs(v);
    }, 0) / lines.length);
    expect(Math.min(meanAbs[2]!, meanAbs[3]!)).toBeGreaterThan(Math.max(meanAbs[0]!, meanAbs[1]!));
    const j = await json('predict', 'iris@1', '--input', 'new.jsonl', '--explain');
    expect(j.code).toBe(0);
    expect(Object.keys(j.json.predictions[0].explain)).toEqual(features);
  });
});

describe('lazy loading', () => {
  it('models commands load neither TensorFlow.js nor the server; predict loads TensorFlow.js', async () => {
    const hooks = join(reg.dir, 'hooks.mjs');
    await writeFile(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.LOAD_LOG, r.url + '\\n'); return r; }\n`);
    await writeFile(join(reg.dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    // The bundled CLI is CommonJS (bin/code-cache.cjs): what it require()s is logged too.
    await writeFile(
      join(reg.dir, 'require-log.cjs'),
      `const Module = require('node:module');\nconst { appendFileSync } = require('node:fs');\nconst resolve = Module._resolveFilename;\nModule._resolveFilename = function (...args) { const r = resolve.apply(this, args); appendFileSync(process.env.LOAD_LOG, r + '\\n'); return r; };\n`,
    );
    const loaded = async (...args: string[]) => {
      const log = join(reg.dir, `load-${args[0]}-${args[1]}.log`);
      await writeFile(log, '');
      const r = await runCli(args, { cwd: reg.dir, env: { ...reg.env, LOAD_LOG: log, NODE_OPTIONS: `--import ${join(reg.dir, 'register.mjs')} --require ${join(reg.dir, 'require-log.cjs')}` } });
      expect(r.code).toBe(0);
      return readFile(log, 'utf8');
    };
    const heavy = /@tensorflow|\/node_modules\/fastify\/|\/node_modules\/prom-client\/|\/dist\/serve\//;
    for (const args of [['models', 'list'], ['models', 'show', 'iris@1'], ['models', 'promote', 'iris@1']]) {
      const log = await loaded(...args);
      expect(log).toMatch(/\/dist\/((bundle\/)?commands\/models\/|bundle\/cli\/mlpipe\.cjs)/);
      expect(log.split('\n').filter((u) => heavy.test(u))).toEqual([]);
    }
    expect(await loaded('predict', 'iris@1', '--input', 'new.jsonl')).toMatch(/@tensorflow\/tfjs-core/);
  });
});

