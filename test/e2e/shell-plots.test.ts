import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// `plots:` of a shell stage through the built CLI: the curves reach `compare runs` (JSON and
// sparklines), `runs show` and `report`; a bad declaration fails the run naming file and spec node.

let ws: Workspace;
let ids: string[];
const mlpipe = (...args: string[]): Promise<CliResult> => runCli([...args, '--runs-dir', 'runs'], { cwd: ws.dir });

const FIT = [
  "const fs = require('fs');",
  'const lr = Number(process.argv[2]);',
  "fs.mkdirSync('out', { recursive: true });",
  'const rows = [1, 2, 3, 4].map((epoch) => ({ epoch, loss: 1 / (1 + lr * epoch), val_loss: 1.1 / (1 + lr * epoch) }));',
  "fs.writeFileSync('out/history.json', JSON.stringify(rows));",
  "fs.writeFileSync('out/acc.csv', 'step,acc\\n0,0.5\\n1,' + (0.5 + lr / 10) + '\\n');",
  "fs.writeFileSync('out/m.json', JSON.stringify({ history: { loss: rows.map((r) => r.loss) } }));",
].join('\n');

beforeAll(async () => {
  ws = await makeWorkspace({
    'fit.cjs': FIT,
    'pipeline.yaml': [
      'name: plots',
      'params:',
      '  lr: 1',
      'stages:',
      '  fit:',
      '    run: node fit.cjs ${params.lr}',
      '    deps: [fit.cjs]',
      '    metrics: out/m.json',
      '    plots:',
      '      - { file: out/history.json, x: epoch, y: [loss, val_loss] }',
      '      - { file: out/acc.csv, x: step }',
      '',
    ].join('\n'),
  });
  ids = [];
  for (const lr of [1, 2]) {
    const r = await mlpipe('run', 'pipeline.yaml', '--set', `params.lr=${lr}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    ids.push(JSON.parse(r.stdout).runId);
  }
}, 240_000);
afterAll(() => ws?.cleanup());

describe('shell stage plots', { timeout: 120_000 }, () => {
  it('compare runs --json has each y column as a curve of the stage, point by point', async () => {
    const r = await mlpipe('compare', 'runs', ...ids, '--json');
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    const byName = Object.fromEntries(c.curves.map((k: { name: string; points: unknown }) => [k.name, k.points]));
    expect(Object.keys(byName).sort()).toEqual(['fit.acc', 'fit.loss', 'fit.val_loss']);
    expect(byName['fit.loss']).toEqual([1, 2].map((lr) => [1, 2, 3, 4].map((epoch) => ({ step: epoch, value: 1 / (1 + lr * epoch) }))));
    expect(byName['fit.acc']).toEqual([
      [
        { step: 0, value: 0.5 },
        { step: 1, value: 0.6 },
      ],
      [
        { step: 0, value: 0.5 },
        { step: 1, value: 0.7 },
      ],
    ]);
    // A metrics file's lists stay final scalars by index (documented); plots: is what makes curves.
    expect(c.metrics.map((m: { name: string }) => m.name)).toContain('fit.history.loss.3');
  });

  it('compare runs draws them as sparklines and runs show counts their points', async () => {
    const table = await mlpipe('compare', 'runs', ...ids);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^\s+fit\.val_loss\s+[▁-█]{4} 0\.22\s+[▁-█]{4} 0\.1222/m);
    const show = await mlpipe('runs', 'show', ids[1]!);
    expect(show.stdout).toContain('fit.loss: 4 points, last 0.1111');
  });

  it('report draws a chart per curve', async () => {
    const r = await mlpipe('report', ...ids, '--out', 'report.html', '--json');
    expect(r.code, r.stderr).toBe(0);
    const curves = JSON.parse(r.stdout).charts.filter((k: { kind: string }) => k.kind === 'curve');
    expect(curves.map((k: { title: string }) => k.title).sort()).toEqual(['fit.acc', 'fit.loss', 'fit.val_loss']);
    expect((await readFile(ws.path('report.html'), 'utf8')).match(/<figure class="chart"[^>]*>\s*<svg /g)).toHaveLength(3);
  });

  it('a y column the file lacks fails the run naming the stage, the file and the spec node', async () => {
    const spec = (await readFile(ws.path('pipeline.yaml'), 'utf8')).replace('y: [loss, val_loss]', 'y: [loss, val_acc]');
    const bad = await makeWorkspace({ 'fit.cjs': FIT, 'pipeline.yaml': spec });
    try {
      const r = await runCli(['run', 'pipeline.yaml', '--runs-dir', 'runs'], { cwd: bad.dir });
      expect(r.code).toBe(1);
      expect(r.stderr + r.stdout).toContain('fit');
      expect(r.stderr + r.stdout).toContain('plots file out/history.json has no y column "val_acc" (its columns: epoch, loss, val_loss); plots[0].y[1] at pipeline.yaml:10:55');
    } finally {
      await bad.cleanup();
    }
  });
});
