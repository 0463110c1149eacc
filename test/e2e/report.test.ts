import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const IRIS = join(ROOT, 'pipelines/iris/pipeline.yaml');
const hasPlaywright = (() => {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
})();
const browserSkip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : !hasPlaywright ? 'playwright-core is not installed' : '';

const mlpipe = (runsDir: string, ...args: string[]) => runCli([...args, '--runs-dir', runsDir], { cwd: ROOT, env: { MLPIPE_RUNS_DIR: '' } });

let dir: string;
let runs: string;
let report: string;
let expected: { curves: number; confusion: number };
const irisRuns: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlpipe-e2e-report-'));
  runs = join(dir, 'runs');
  report = join(dir, 'out', 'report.html');
  mkdirSync(join(dir, 'out'));
  if (existsSync(IRIS)) {
    for (const lr of ['0.01', '0.05']) {
      const r = await mlpipe(runs, 'run', IRIS, '--set', `params.lr=${lr}`, '--set', 'params.epochs=6', '--json');
      expect([0, 3], r.stderr).toContain(r.code);
      irisRuns.push(JSON.parse(r.stdout).runId);
    }
    // One chart per per-step metric the runs logged (loss, accuracy, val_*, the learning rate …).
    const shown = JSON.parse((await mlpipe(runs, 'runs', 'show', irisRuns[1]!, '--json')).stdout);
    expected = { curves: Object.keys(shown.curves).length, confusion: 2 };
    expect(expected.curves).toBeGreaterThanOrEqual(4);
  } else {
    writeFileSync(join(dir, 'score.js'), "const x = Number(process.argv[2]);\nrequire('fs').writeFileSync('m.json', JSON.stringify({ accuracy: x / 10, confusion_matrix: [[5, x], [1, 4]] }));\n");
    writeFileSync(join(dir, 'toy.yaml'), 'name: toy\nparams: { x: 1 }\nstages:\n  evaluate:\n    run: node score.js ${params.x}\n    deps: [score.js]\n    metrics: m.json\n');
    for (const x of [1, 2]) expect(await mlpipe(runs, 'run', join(dir, 'toy.yaml'), '--set', `params.x=${x}`).code).toBe(0);
    expected = { curves: 0, confusion: 2 };
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mlpipe report', () => {
  it('writes one self-contained HTML file with the tables and inline SVG charts', async () => {
    const r = await mlpipe(runs, 'report', '--last', '2', '--out', report, '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ schemaVersion: 1, out: report });
    expect(summary.runs).toHaveLength(2);
    expect(summary.charts.filter((c: { kind: string }) => c.kind === 'curve')).toHaveLength(expected.curves);
    expect(summary.charts.filter((c: { kind: string }) => c.kind === 'confusion')).toHaveLength(expected.confusion);
    const html = readFileSync(report, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<figure class="chart"[^>]*>\s*<svg /g)).toHaveLength(expected.curves + expected.confusion);
    expect(html).toContain('<table class="compare">');
    expect(html).toContain('<table class="params">');
    for (const id of summary.runs) expect(html).toContain(id);
    expect(html).not.toMatch(/<script|<link|\bsrc=|url\((?!#)|@import/i);
    expect(html.match(/(?:href|src)="https?:/g)).toBeNull();
    expect(existsSync(`${report}.tmp-${process.pid}`)).toBe(false);
  });

  it.skipIf(!existsSync(IRIS))('compare over the same iris runs: the changed param, the evaluate metrics and the loss curve as a sparkline', async () => {
    const r = await mlpipe(runs, 'compare', 'runs', ...irisRuns, '--only-changed', '--json');
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.params).toEqual([{ name: 'lr', values: [0.01, 0.05], changed: true }]);
    const accuracy = c.metrics.find((m: { name: string }) => m.name === 'evaluate.accuracy');
    expect(accuracy.values.every((v: number) => v >= 0 && v <= 1)).toBe(true);
    expect(c.curves.map((x: { name: string }) => x.name)).toContain('train.loss');
    const table = await mlpipe(runs, 'compare', 'runs', ...irisRuns);
    expect(table.stdout).toMatch(/^\s+lr\s+0\.01\s+0\.05$/m);
    expect(table.stdout).toMatch(/^\s+train\.loss\s+[▁▂▃▄▅▆▇█]+ /m);
  });

  it('keeps every run\'s confusion matrix when the run folders are gone (the CI layout keeps only tracker and cache)', async () => {
    const copy = join(dir, 'ci-runs');
    cpSync(runs, copy, { recursive: true });
    for (const name of readdirSync(copy)) if (name.startsWith('r-') || name === 'latest') rmSync(join(copy, name), { recursive: true, force: true });
    const out = join(dir, 'out', 'ci.html');
    const r = await mlpipe(copy, 'report', '--last', '2', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).charts.filter((c: { kind: string }) => c.kind === 'confusion')).toHaveLength(expected.confusion);
    if (existsSync(IRIS)) expect(readFileSync(out, 'utf8')).toContain('versicolor');
  });

  it('says why a failed run failed: the stage, its error and its last output lines', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\nstages:\n  fit:\n    run: node -e "console.log(\'loading rows\'); console.log(\'row 17 is bad\'); process.exit(4)"\n');
    const run = await mlpipe(runs, 'run', join(dir, 'broken.yaml'), '--json');
    expect(run.code).toBe(1);
    const id = JSON.parse(run.stdout).runId;
    const out = join(dir, 'out', 'failed.html');
    const r = await mlpipe(runs, 'report', id, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/<div class="failure">stage <code>fit<\/code> failed: [^<]*exit[^<]*4/);
    expect(html).toMatch(/<pre class="tail">loading rows\nrow 17 is bad<\/pre>/);
  });

  it('names the runs it cannot find (exit 2) and writes nothing', async () => {
    const out = join(dir, 'out', 'never.html');
    const r = await mlpipe(runs, 'report', 'r-nope', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run matches "r-nope"');
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(browserSkip !== '')(`renders its charts in headless Chromium${browserSkip ? ` (skipped: ${browserSkip})` : ''}`, async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(pathToFileURL(report).href);
      const charts = await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => {
          const svg = f.querySelector('svg')!;
          const box = svg.getBoundingClientRect();
          return {
            kind: (f as HTMLElement).dataset.kind,
            width: box.width,
            height: box.height,
            lines: svg.querySelectorAll('.mark-line path').length,
            cells: svg.querySelectorAll('.mark-rect path').length,
            texts: svg.querySelectorAll('text').length,
          };
        }),
      );
      expect(charts).toHaveLength(expected.curves + expected.confusion);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(150);
        expect(c.height).toBeGreaterThan(100);
        expect(c.texts).toBeGreaterThan(3);
        if (c.kind === 'curve') expect(c.lines).toBeGreaterThanOrEqual(2);
        else expect(c.cells).toBeGreaterThanOrEqual(4);
      }
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output', 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
