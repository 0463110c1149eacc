import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin', 'run.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mlpipe(runsDir: string, ...args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, ...args, '--runs-dir', runsDir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', MLPIPE_RUNS_DIR: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = <T = any>(r: Result): T => JSON.parse(r.stdout) as T;

/** A one-stage shell pipeline whose metrics depend on `params.x`; x < 0 makes the stage fail. */
function writeToyPipeline(dir: string, name: string, metricsJs: string): string {
  writeFileSync(
    join(dir, `${name}.js`),
    `const x = Number(process.argv[2]);\nif (x < 0) { console.error('x must not be negative'); process.exit(1); }\nrequire('fs').writeFileSync('${name}-metrics.json', JSON.stringify(${metricsJs}));\n`,
  );
  const spec = join(dir, `${name}.yaml`);
  writeFileSync(spec, `name: ${name}\nparams:\n  x: 1\n  fixed: same\nstages:\n  score:\n    run: node ${name}.js \${params.x}\n    deps: [${name}.js]\n    metrics: ${name}-metrics.json\n`);
  return spec;
}

describe('mlpipe runs and compare over real runs of a shell pipeline', () => {
  let dir: string;
  let runs: string;
  let ids: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlpipe-e2e-compare-'));
    runs = join(dir, 'runs');
    const spec = writeToyPipeline(dir, 'toy', '{ accuracy: 0.5 + x / 10, loss: 1 / (x + 1) }');
    ids = [];
    for (const x of [1, 3, 2]) {
      const r = mlpipe(runs, 'run', spec, '--set', `params.x=${x}`, '--json');
      expect(r.code, r.stderr).toBe(0);
      ids.push(json(r).runId);
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compare runs --last 3 shows the changed param and the metric deltas against the oldest run', () => {
    const r = mlpipe(runs, 'compare', 'runs', '--last', '3');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^\\s+${ids[0].slice(0, 8)}\\w* \\(baseline\\)\\s+${ids[1].slice(0, 8)}\\w*\\s+${ids[2].slice(0, 8)}\\w*$`));
    expect(lines.find((l) => l.trim().startsWith('x '))).toMatch(/^\s+x\s+1\s+3\s+2$/);
    expect(lines.find((l) => l.includes('score.accuracy'))).toMatch(/score\.accuracy\s+0\.6\s+0\.8 \(\+0\.2 ▲\) ★\s+0\.7 \(\+0\.1 ▲\)$/);
    expect(lines.find((l) => l.includes('score.loss'))).toMatch(/score\.loss\s+0\.5\s+0\.25 \(-0\.25 ▲\) ★\s+0\.3333 \(-0\.1667 ▲\)$/);
    expect(r.stdout).toContain('lower is better for score.loss');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--only-changed drops params that are equal everywhere; --metric and --sort select and order', () => {
    expect(mlpipe(runs, 'compare', 'runs', '--last', '3').stdout).toMatch(/^\s+fixed\s+same/m);
    const r = mlpipe(runs, 'compare', 'runs', '--last', '3', '--only-changed', '--metric', 'accuracy', '--sort', 'accuracy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const c = json(r);
    expect(c.params.map((p: { name: string }) => p.name)).toEqual(['x']);
    expect(c.metrics.map((m: { name: string }) => m.name)).toEqual(['score.accuracy']);
    expect(c.runs.map((x: { id: string }) => x.id)).toEqual([ids[1], ids[2], ids[0]]);
  });

  it('--json and --format json give the versioned comparison with deltas and best runs', () => {
    const a = json(mlpipe(runs, 'compare', 'runs', ids[0], ids[1], ids[2], '--json'));
    const b = json(mlpipe(runs, 'compare', 'runs', ids[0], ids[1], ids[2], '--format', 'json'));
    expect(b).toEqual(a);
    expect(a).toMatchObject({ schemaVersion: 1, baseline: ids[0], conditions: [] });
    expect(a.runs.map((r: { id: string; isBaseline: boolean }) => [r.id, r.isBaseline])).toEqual([
      [ids[0], true],
      [ids[1], false],
      [ids[2], false],
    ]);
    const acc = a.metrics.find((m: { name: string }) => m.name === 'score.accuracy');
    expect(acc.values).toEqual([0.6, 0.8, 0.7]);
    expect(acc.deltas.map((d: number | null) => d && Number(d.toFixed(6)))).toEqual([null, 0.2, 0.1]);
    expect(acc.best).toEqual([1]);
    expect(a.params.find((p: { name: string }) => p.name === 'x')).toEqual({ name: 'x', values: [1, 3, 2], changed: true });
  });

  it('--format markdown is a pull-request-ready table; --format csv has one row per run', () => {
    const md = mlpipe(runs, 'compare', 'runs', '--last', '3', '--format', 'markdown');
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^#### mlpipe: 3 runs of toy\n\| \| r-\w+ \(baseline\) \| r-\w+ \| r-\w+ \|\n\| --- \| --- \| --- \| --- \|\n/);
    expect(md.stdout).toMatch(/\| {3}score\.accuracy \| 0\.6 \| \*\*0\.8 \(\+0\.2 ▲\) ★\*\* \| 0\.7 \(\+0\.1 ▲\) \|/);
    const csv = mlpipe(runs, 'compare', 'runs', '--last', '3', '--format', 'csv').stdout.trim().split('\n');
    expect(csv[0]).toBe('run,pipeline,status,started,baseline,params.fixed,params.x,score.accuracy,score.loss');
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 2).concat(l.split(',').slice(-3)))).toEqual([
      [ids[0], 'toy', '1', '0.6', '0.5'],
      [ids[1], 'toy', '3', '0.8', '0.25'],
      [ids[2], 'toy', '2', '0.7', '0.3333333333333333'],
    ]);
  });

  it('--fail-if exits 3 with the condition and values when it holds, 0 when it does not', () => {
    const fail = mlpipe(runs, 'compare', 'runs', '--last', '2', '--baseline', ids[1], '--fail-if', 'accuracy < baseline - 0.01', '--fail-if', 'loss > 5');
    expect(fail.code).toBe(3);
    expect(fail.stderr).toContain(`fail-if accuracy < baseline - 0.01 holds for ${ids[2].slice(0, 8)}`);
    expect(fail.stderr).toMatch(/accuracy = 0\.7, baseline\.accuracy = 0\.8/);
    const pass = mlpipe(runs, 'compare', 'runs', '--last', '2', '--baseline', ids[0], '--fail-if', 'accuracy < baseline - 0.01');
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stderr).toBe('');
    const asJson = mlpipe(runs, 'compare', 'runs', '--last', '2', '--baseline', ids[1], '--fail-if', 'score.accuracy < baseline', '--json');
    expect(asJson.code).toBe(3);
    expect(json(asJson).conditions[0]).toMatchObject({ expression: 'score.accuracy < baseline', holds: true });
  });

  it('bad conditions, unknown runs and ambiguous prefixes exit 2 with an explanation', () => {
    const syntax = mlpipe(runs, 'compare', 'runs', '--fail-if', 'accuracy <');
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('--fail-if: invalid expression: expected a number, a metric name or "(" but found the end at column 11');
    const unknownMetric = mlpipe(runs, 'compare', 'runs', '--fail-if', 'acuracy < 1');
    expect(unknownMetric.code).toBe(2);
    expect(unknownMetric.stderr).toContain('did you mean "accuracy"?');
    const unknown = mlpipe(runs, 'runs', 'show', 'r-nothing');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run matches "r-nothing"; recent runs: ');
    const ambiguous = mlpipe(runs, 'compare', 'runs', 'r-');
    expect(ambiguous.code).toBe(2);
    for (const id of ids) expect(ambiguous.stderr).toContain(id);
    expect(ambiguous.stderr).toContain('Hint: give more characters of the run id');
    const both = mlpipe(runs, 'compare', 'runs', ids[0], '--last', '2');
    expect(both.code).toBe(2);
  });

  it('runs list and runs show report stages, metrics and the error of a failed run', () => {
    const failed = mlpipe(runs, 'run', join(dir, 'toy.yaml'), '--set', 'params.x=-1', '--json');
    expect(failed.code).toBe(1);
    const failedId = json(failed).runId;
    const list = mlpipe(runs, 'runs', 'list', '--limit', '2');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+PIPELINE\s+STATUS\s+STARTED\s+DURATION\s+STAGES\s+METRICS$/);
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${failedId.slice(0, 8)}\\w*\\s+toy\\s+failed\\s+.*1 ran, 0 cached, 1 failed`));
    expect(list.stdout.split('\n')[2]).toMatch(/completed .*1 ran, 0 cached\s+accuracy=0\.7 loss=0\.3333$/);
    expect(list.stdout.split('\n')).toHaveLength(4);
    const listed = json(mlpipe(runs, 'runs', 'list', '--status', 'failed', '--json'));
    expect(listed.runs.map((r: { id: string }) => r.id)).toEqual([failedId]);
    const show = mlpipe(runs, 'runs', 'show', failedId.slice(0, 9));
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`run ${failedId}`);
    expect(show.stdout).toMatch(/score\s+shell\s+failed/);
    expect(show.stdout).toContain('x must not be negative');
    const details = json(mlpipe(runs, 'runs', 'show', ids[0], '--json'));
    expect(details).toMatchObject({ schemaVersion: 1, run: { id: ids[0], status: 'completed', params: { x: 1 } }, metrics: { 'score.accuracy': 0.6, 'score.loss': 0.5 } });
    expect(details.stages).toEqual([expect.objectContaining({ stage: 'score', kind: 'shell', status: 'completed' })]);
  });

  it('compares runs of different pipelines with blank cells', () => {
    const other = writeToyPipeline(dir, 'other', '{ rmse: x * 2 }');
    const r = mlpipe(runs, 'run', other, '--set', 'params.x=4', '--json');
    expect(r.code, r.stderr).toBe(0);
    const cmp = mlpipe(runs, 'compare', 'runs', ids[0], json(r).runId);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toMatch(/^\s+pipeline\s+toy\s+other$/m);
    expect(cmp.stdout).toMatch(/^\s+score\.accuracy\s+0\.6$/m);
    expect(cmp.stdout).toMatch(/^\s+score\.rmse\s+8$/m);
    const defaults = json(mlpipe(runs, 'compare', 'runs', '--json'));
    expect(defaults.runs.map((x: { pipeline: string }) => x.pipeline)).toEqual(['other']);
  });
});

describe.skipIf(!existsSync(join(ROOT, 'pipelines/iris/pipeline.yaml')))('compare on the iris example pipeline', () => {
  let dir: string;
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('three runs with different --set values show the changed params and the metric deltas', () => {
    dir = mkdtempSync(join(tmpdir(), 'mlpipe-e2e-iris-'));
    const ids = ['0.01', '0.05', '0.1'].map((lr) => {
      const r = mlpipe(dir, 'run', 'pipelines/iris/pipeline.yaml', '--set', `params.lr=${lr}`, '--set', 'params.epochs=8', '--json');
      expect([0, 3], r.stderr).toContain(r.code);
      return json(r).runId as string;
    });
    const c = json(mlpipe(dir, 'compare', 'runs', '--last', '3', '--only-changed', '--json'));
    expect(c.runs.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(c.params).toEqual([{ name: 'lr', values: [0.01, 0.05, 0.1], changed: true }]);
    const acc = c.metrics.find((m: { name: string }) => m.name === 'evaluate.accuracy');
    expect(acc.values.every((v: number) => v >= 0 && v <= 1)).toBe(true);
    expect(acc.deltas[0]).toBeNull();
    expect(acc.deltas[1]).toBeCloseTo(acc.values[1] - acc.values[0], 10);
    expect(c.curves.map((x: { name: string }) => x.name)).toContain('train.loss');
    const table = mlpipe(dir, 'compare', 'runs', '--last', '3');
    expect(table.stdout).toMatch(/^\s+lr\s+0\.01\s+0\.05\s+0\.1$/m);
    expect(table.stdout).toMatch(/^\s+train\.loss\s+[▁▂▃▄▅▆▇█]+ /m);
    const worst = Math.min(...acc.values);
    expect(mlpipe(dir, 'compare', 'runs', '--last', '3', '--fail-if', `evaluate.accuracy < ${worst}`).code).toBe(0);
    expect(mlpipe(dir, 'compare', 'runs', '--last', '3', '--fail-if', `evaluate.accuracy <= ${Math.max(...acc.values.slice(1))}`).code).toBe(3);
  });
});
