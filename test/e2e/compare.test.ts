import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// The CLI contract of `mlpipe compare runs` and `mlpipe runs`: exit codes, the --json document and
// the output formats, over real runs. What the numbers are (deltas, best marks, ordering, blank
// cells, run references) is tested without a process in test/core/compare.test.ts and format.test.ts;
// compare over training curves in report.test.ts (iris runs).

let ws: Workspace;
let ids: string[];
const mlpipe = (...args: string[]): Promise<CliResult> => runCli([...args, '--runs-dir', 'runs'], { cwd: ws.dir });
const json = <T = any>(r: CliResult): T => JSON.parse(r.stdout) as T;

beforeAll(async () => {
  // One shell stage whose metrics follow params.x; x < 0 makes it fail.
  ws = await makeWorkspace({
    'toy.js': "const x = Number(process.argv[2]);\nif (x < 0) { console.error('x must not be negative'); process.exit(1); }\nrequire('fs').writeFileSync('m.json', JSON.stringify({ accuracy: 0.5 + x / 10, loss: 1 / (x + 1) }));\n",
    'toy.yaml': 'name: toy\nparams:\n  x: 1\n  fixed: same\nstages:\n  score:\n    run: node toy.js ${params.x}\n    deps: [toy.js]\n    metrics: m.json\n',
  });
  ids = [];
  for (const x of [1, 3, 2]) {
    const r = await mlpipe('run', 'toy.yaml', '--set', `params.x=${x}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    ids.push(json(r).runId);
  }
});
afterAll(() => ws?.cleanup());

describe('mlpipe compare runs', () => {
  it('prints the table with the baseline first, without colour off a TTY, and exits 0', async () => {
    const r = await mlpipe('compare', 'runs', '--last', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^\\s+${ids[0]!.slice(0, 8)}\\w* \\(baseline\\)\\s+${ids[1]!.slice(0, 8)}\\w*\\s+${ids[2]!.slice(0, 8)}\\w*$`));
    expect(r.stdout).toMatch(/^\s+score\.accuracy\s+0\.6\s+0\.8 \(\+0\.2 ▲\) ★\s+0\.7 \(\+0\.1 ▲\)$/m);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--json is the versioned comparison document, and --format json the same one', async () => {
    const a = json(await mlpipe('compare', 'runs', ...ids, '--json'));
    expect(json(await mlpipe('compare', 'runs', ...ids, '--format', 'json'))).toEqual(a);
    expect(a).toMatchObject({ schemaVersion: 1, baseline: ids[0], conditions: [] });
    expect(a.runs.map((r: { id: string; isBaseline: boolean }) => [r.id, r.isBaseline])).toEqual([
      [ids[0], true],
      [ids[1], false],
      [ids[2], false],
    ]);
    expect(a.params).toContainEqual({ name: 'x', values: [1, 3, 2], changed: true });
    expect(a.metrics.find((m: { name: string }) => m.name === 'score.accuracy')).toMatchObject({ values: [0.6, 0.8, 0.7], best: [1] });
    const selected = json(await mlpipe('compare', 'runs', '--last', '3', '--only-changed', '--metric', 'accuracy', '--sort', 'accuracy', '--json'));
    expect(selected.params.map((p: { name: string }) => p.name)).toEqual(['x']);
    expect(selected.metrics.map((m: { name: string }) => m.name)).toEqual(['score.accuracy']);
    expect(selected.runs.map((r: { id: string }) => r.id)).toEqual([ids[1], ids[2], ids[0]]);
  });

  it('--format markdown is a pull-request table; --format csv has a header and one row per run', async () => {
    const md = await mlpipe('compare', 'runs', '--last', '3', '--format', 'markdown');
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^#### mlpipe: 3 runs of toy\n\| \| r-\w+ \(baseline\) \| r-\w+ \| r-\w+ \|\n\| --- \| --- \| --- \| --- \|\n/);
    const csv = await mlpipe('compare', 'runs', '--last', '3', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('run,pipeline,status,started,baseline,params.fixed,params.x,score.accuracy,score.loss');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ids);
  });

  it('exits 3 when a --fail-if holds (saying which and why), 0 when none does', async () => {
    const fail = await mlpipe('compare', 'runs', '--last', '2', '--baseline', ids[1]!, '--fail-if', 'accuracy < baseline - 0.01', '--fail-if', 'loss > 5');
    expect(fail.code).toBe(3);
    expect(fail.stderr).toContain(`fail-if accuracy < baseline - 0.01 holds for ${ids[2]!.slice(0, 8)}`);
    expect(fail.stderr).toMatch(/accuracy = 0\.7, baseline\.accuracy = 0\.8/);
    const asJson = await mlpipe('compare', 'runs', '--last', '2', '--baseline', ids[1]!, '--fail-if', 'score.accuracy < baseline', '--json');
    expect(asJson.code).toBe(3);
    expect(json(asJson).conditions[0]).toMatchObject({ expression: 'score.accuracy < baseline', holds: true });
    const pass = await mlpipe('compare', 'runs', '--last', '2', '--baseline', ids[0]!, '--fail-if', 'accuracy < baseline - 0.01');
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stderr).toBe('');
  });

  it('warns, instead of passing silently, when a --fail-if on baseline would compare the only run with itself', async () => {
    const r = await mlpipe('compare', 'runs', '--last', '1', '--fail-if', 'accuracy > baseline - 1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: --fail-if "accuracy > baseline - 1" was not checked for ${ids[2]!.slice(0, 8)}`);
    expect(r.stderr).toContain('pass --baseline RUN or MODEL@ALIAS');
    const compared = await mlpipe('compare', 'runs', '--last', '1', '--baseline', ids[1]!, '--fail-if', 'accuracy > baseline - 1');
    expect(compared.code).toBe(3);
    expect(compared.stderr).not.toContain('warning');
  });

  it('exits 2 with an explanation for a bad condition, an unknown or ambiguous run, and ids given with --last', async () => {
    const syntax = await mlpipe('compare', 'runs', '--fail-if', 'accuracy <');
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('--fail-if: invalid expression');
    const unknownMetric = await mlpipe('compare', 'runs', '--fail-if', 'acuracy < 1');
    expect(unknownMetric.code).toBe(2);
    expect(unknownMetric.stderr).toContain('did you mean "accuracy"?');
    const ambiguous = await mlpipe('compare', 'runs', 'r-');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('Hint: give more characters of the run id');
    expect((await mlpipe('compare', 'runs', ids[0]!, '--last', '2')).code).toBe(2);
  });
});

describe('mlpipe runs', () => {
  it('list and show: a table, the --json documents, and exit 2 naming recent runs for an unknown one', async () => {
    const list = await mlpipe('runs', 'list', '--limit', '2');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+PIPELINE\s+STATUS\s+STARTED\s+DURATION\s+STAGES\s+METRICS$/);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(4); // the header, 2 runs, then how many of all were shown
    expect(lines[3]).toMatch(/^2 of \d+ runs shown; --offset 2 for more$/);
    expect(json(await mlpipe('runs', 'list', '--json')).runs.map((r: { id: string }) => r.id)).toEqual([...ids].reverse());
    const show = await mlpipe('runs', 'show', ids[0]!.slice(0, 9));
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`run ${ids[0]}`);
    const details = json(await mlpipe('runs', 'show', ids[0]!, '--json'));
    expect(details).toMatchObject({ schemaVersion: 1, run: { id: ids[0], status: 'completed', params: { x: 1 } }, metrics: { 'score.accuracy': 0.6, 'score.loss': 0.5 } });
    expect(details.stages).toEqual([expect.objectContaining({ stage: 'score', kind: 'shell', status: 'completed' })]);
    const unknown = await mlpipe('runs', 'show', 'r-nothing');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run matches "r-nothing"; recent runs: ');
  });
});
