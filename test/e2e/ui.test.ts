import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import { cliPath, repoRoot, runCli, runJson } from '../helpers/cli.js';
import { makeUiFixture, type UiFixture } from '../helpers/ui-fixture.js';

const CHROMIUM =
  process.env.CHROMIUM_PATH ||
  (process.env.PATH ?? '').split(':').map((dir) => `${dir}/chromium`).find((path) => existsSync(path)) ||
  '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const OUT = join(repoRoot, 'test-output');
const hasPlaywright = (() => {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
})();
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : !hasPlaywright ? 'playwright-core is not installed' : '';

interface Ui {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts `mlpipe ui` on a free port and waits for its "… at URL" line. */
function startUi(fx: UiFixture, ...args: string[]): Promise<Ui> {
  const child = spawn(process.execPath, [cliPath, 'ui', '--port', '0', '--poll-interval', '200', ...args], { cwd: fx.dir, env: { ...process.env, ...fx.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = / at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve({ child, url: m[1]!, stop: async () => void (child.kill('SIGTERM'), await exited) });
    });
    void exited.then((code) => reject(new Error(`mlpipe ui exited ${code} before listening:\n${err}`)));
  });
}

let fx: UiFixture;
let ui: Ui;
let context: BrowserContext;
let page: Page;
let profile: string;
const offsite: string[] = [];
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(OUT, `ui-${name}.png`), fullPage: name !== 'runs' });
const columnValues = (col: string) => page.$$eval(`.table .body [data-col="${col}"]`, (cells) => cells.map((c) => (c as HTMLElement).dataset.value ?? ''));
const rowIds = () => page.$$eval('.table .body [data-run-id]', (rows) => rows.map((r) => (r as HTMLElement).dataset.runId!));
const waitRows = (n: number) => page.waitForFunction((k) => document.querySelectorAll('.table .body [data-run-id]').length === k, n);

// Each step spawns CLI commands and drives a browser: generous limits for a loaded 2-core machine.
describe.skipIf(skip !== '')(`mlpipe ui in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, { timeout: 240_000 }, () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    fx = await makeUiFixture();
    ui = await startUi(fx);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'mlpipe-ui-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on('request', (r) => !r.url().startsWith(ui.url) && !r.url().startsWith('data:') && offsite.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await ui?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await fx?.cleanup();
  });

  it('lists the runs, sorts them by a column and filters them with the filter language', async () => {
    await page.goto(ui.url);
    await waitRows(6);
    const listed = await runJson(['runs', 'list'], { cwd: fx.dir, env: fx.env });
    expect(await rowIds()).toEqual(listed.json.runs.map((r: { id: string }) => r.id));
    expect((await rowIds()).slice(0, 2)).toEqual([fx.failedRun, fx.weatherRun]);
    // Sorting runs on the server: the new order lands a moment after the click.
    await page.click('[role=columnheader][data-col="metrics.evaluate.accuracy"]');
    const accuracyOrder = async () => {
      const v = await columnValues('metrics.evaluate.accuracy');
      const nums = v.filter(Boolean).map(Number);
      return { count: nums.length, sortedDesc: nums.every((n, i) => i === 0 || nums[i - 1]! >= n), missingLast: v.slice(4) };
    };
    await expect.poll(accuracyOrder, { timeout: 30_000 }).toEqual({ count: 4, sortedDesc: true, missingLast: ['', ''] });
    await page.click('[role=columnheader][data-col="params.lr"]');
    await page.click('[role=columnheader][data-col="params.lr"]');
    await expect.poll(async () => (await columnValues('params.lr')).slice(0, 4), { timeout: 30_000 }).toEqual(['0.005', '0.01', '0.05', '0.2']);

    await page.fill('[data-testid=filter]', 'params.lr >= 0.05');
    await page.press('[data-testid=filter]', 'Enter');
    await waitRows(2);
    const lr05 = fx.sweepRuns[1]!;
    const lr2 = fx.sweepRuns[2]!;
    expect(await rowIds()).toEqual([lr05, lr2]);
    await expect.poll(() => page.textContent('[data-testid=run-count]')).toBe('2 of 6 runs');
    await shot('filtered');

    await page.fill('[data-testid=filter]', 'params.lr >=');
    await page.press('[data-testid=filter]', 'Enter');
    await page.waitForSelector('[data-testid=filter-error]');
    expect(await page.textContent('[data-testid=filter-error]')).toContain('invalid filter');
    await page.click('text=Clear');
    await waitRows(6);

    await page.fill('[data-testid=search]', 'weather');
    await waitRows(2);
    expect((await rowIds()).sort()).toEqual([fx.failedRun, fx.weatherRun].sort());
    await page.fill('[data-testid=search]', '');
    await waitRows(6);
    expect(await page.textContent(`[data-run-id="${fx.failedRun}"] [data-col=reason]`)).toBe('monthly: command exited with code 3 — 365 rows, 0 with rain_mm');
  });

  it('shows the columns the user picks, kept across a reload, and tags set while it is open', async () => {
    await page.click('[data-testid=columns-button]');
    await page.uncheck('[data-column="params.lr"]');
    await page.check('[data-column="metrics.train.epochs"]');
    await page.check('[data-column="commit"]');
    await page.click('[data-testid=columns-button]');
    const headers = () => page.$$eval('.table .head [role=columnheader][data-col]', (hs) => hs.map((h) => (h as HTMLElement).dataset.col));
    expect(await headers()).toContain('metrics.train.epochs');
    expect(await headers()).not.toContain('params.lr');
    await page.reload();
    await waitRows(6);
    expect(await headers()).toContain('metrics.train.epochs');
    expect(await headers()).not.toContain('params.lr');
    const epochs = await columnValues('metrics.train.epochs');
    expect(epochs.filter(Boolean).map(Number).every((n) => n > 0)).toBe(true);

    const t = await openTracker(fx.runsDir);
    await t.setRunTags(fx.sweepRuns[1]!, { owner: 'ana' });
    await t.updateRun(fx.sweepRuns[1]!, { name: 'lr-0.05' });
    await t.close();
    await page.waitForFunction((id) => document.querySelector(`[data-run-id="${id}"] [data-col=run]`)?.textContent === 'lr-0.05', fx.sweepRuns[1]!);
    await page.click('[data-testid=columns-button]');
    await page.check('[data-column="tags.owner"]');
    await page.click('[data-testid=columns-button]');
    expect(await page.textContent(`[data-run-id="${fx.sweepRuns[1]}"] [data-col="tags.owner"]`)).toBe('ana');
    await page.fill('[data-testid=filter]', "tags.owner = 'ana' or name like 'nothing%'");
    await page.press('[data-testid=filter]', 'Enter');
    await waitRows(1);
    expect(await rowIds()).toEqual([fx.sweepRuns[1]]);
    await page.click('text=Clear');
    await waitRows(6);
    await page.click('[data-testid=columns-button]');
    for (const c of ['tags.owner', 'metrics.train.epochs', 'commit']) await page.uncheck(`[data-column="${c}"]`);
    await page.check('[data-column="params.lr"]');
    await page.click('[data-testid=columns-button]');
  });

  it('shows a new run without a reload', async () => {
    const r = await runCli(['run', 'weather/pipeline.yaml'], { cwd: fx.dir, env: fx.env });
    expect(r.code).toBe(1);
    await waitRows(7);
    await shot('runs');
  });

  it('compares three selected runs with the numbers of `mlpipe compare runs --json`', async () => {
    await page.click('[role=columnheader][data-col="started"]');
    await page.click('[role=columnheader][data-col="started"]');
    for (const id of fx.sweepRuns) await page.check(`[data-run-id="${id}"] [data-testid=select-run]`);
    await page.click('[data-testid=compare-selected]');
    await page.waitForSelector('[data-testid=metrics-table]');
    const check = async (args: string[]) => {
      const cli = await runJson(['compare', 'runs', ...fx.sweepRuns, ...args], { cwd: fx.dir, env: fx.env });
      expect(cli.code).toBe(0);
      for (const m of cli.json.metrics as { name: string; values: (number | null)[]; deltas: (number | null)[] }[]) {
        const cells = await page.$$eval(`[data-metric="${m.name}"] td`, (tds) => tds.map((td) => [(td as HTMLElement).dataset.run, (td as HTMLElement).dataset.value, (td as HTMLElement).dataset.delta]));
        expect(cells.map((c) => c[0])).toEqual(cli.json.runs.map((r: { id: string }) => r.id));
        expect(cells.map((c) => (c[1] === '' ? null : Number(c[1])))).toEqual(m.values);
        expect(cells.map((c) => (c[2] === '' ? null : Number(c[2])))).toEqual(m.deltas);
      }
      return cli.json;
    };
    const json = await check([]);
    expect(json.metrics.length).toBeGreaterThan(10);
    await page.selectOption('[data-testid=baseline]', fx.sweepRuns[2]!);
    await page.waitForFunction((id) => document.querySelector('th.baseline a')?.getAttribute('href')?.endsWith(id), fx.sweepRuns[2]!);
    await check(['--baseline', fx.sweepRuns[2]!]);
    expect(await page.$$eval('[data-param="lr"] td', (tds) => tds.map((td) => td.textContent))).toEqual(['0.005', '0.05', '0.2']);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=confusion] svg.marks').length === 3 && document.querySelectorAll('[data-testid=curve] svg.marks').length >= 2);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=scatter] svg.marks .mark-symbol path').length === 3);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=parallel] svg.marks .mark-line path').length === 3);
    await shot('compare');
  });

  it("draws a shell stage's plots (weather's summary: plots: out/by-month.json) as curves on its run page", async () => {
    await page.goto(`${ui.url}#/runs/${fx.weatherRun}`);
    const titles = () => page.$$eval('[data-testid=curve]', (fs) => fs.filter((f) => f.querySelector('svg.marks .mark-line path')).map((f) => (f as HTMLElement).dataset.title));
    await expect.poll(titles, { timeout: 60_000 }).toEqual(['summary.north_temp_c', 'summary.south_temp_c']);
    const cli = await runJson(['compare', 'runs', fx.weatherRun], { cwd: fx.dir, env: fx.env });
    const north = cli.json.curves.find((c: { name: string }) => c.name === 'summary.north_temp_c');
    expect(north.points[0].map((p: { step: number }) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await shot('shell-plots');
  });

  it('opens a failed run and shows its stage, error and last output lines', async () => {
    await page.goto(`${ui.url}#/runs/${fx.failedRun}`);
    await page.waitForSelector('[data-testid=failure]');
    expect(await page.textContent('[data-testid=failure]')).toContain('stage monthly failed: command exited with code 3');
    expect(await page.textContent('[data-testid=failure-lines]')).toBe('reading out/clean.csv\n365 rows, 0 with rain_mm');
    expect(await page.textContent('[data-stage="clean"] [data-col=cache]')).toContain('restored from');
    expect(await page.textContent('[data-stage="monthly"] [data-col=reason]')).toContain('scripts/monthly.mjs changed');
    expect(await page.textContent('[data-testid=spec]')).toContain('name: weather');
    const link = page.locator('[data-testid=artifacts] [data-testid=download]').first();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(OUT, 'ui-download.bin');
    await download.saveAs(saved);
    const res = await page.request.get(new URL((await link.getAttribute('href'))!, ui.url).toString());
    expect(res.status()).toBe(200);
    expect((await readFile(saved)).equals(await res.body())).toBe(true);
    await shot('failed-run');
  });

  it("shows a run's permutation importance sorted by mean drop and its slice tables, kept out of the metric list", async () => {
    const run = fx.sweepRuns[0]!;
    const t = await openTracker(fx.runsDir);
    const now = Date.now();
    const m = (key: string, value: number) => ({ runId: run, stage: 'evaluate', key, step: null, value, time: now });
    await t.logMetrics([
      m('importance.sepal_width.mean', 0.02),
      m('importance.sepal_width.std', 0.01),
      m('importance.petal_length.mean', 0.31),
      m('importance.petal_length.std', 0.04),
      m('importance.petal_width.mean', 0.12),
      m('importance.petal_width.std', 0.03),
      m('slices.size.big.n', 20),
      m('slices.size.big.accuracy', 0.95),
      m('slices.size.small.n', 10),
      m('slices.size.small.accuracy', 0.8),
      m('slices.size.accuracy_gap', 0.15),
    ]);
    await t.close();
    await page.goto(`${ui.url}#/runs/${run}`);
    await page.waitForSelector('[data-testid=importance]');
    const rows = await page.$$eval('[data-testid=importance] tbody tr', (trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.feature, tr.querySelector('[data-col=mean]')!.getAttribute('data-value'), tr.querySelector('[data-col=std]')!.getAttribute('data-value')]),
    );
    expect(rows).toEqual([
      ['petal_length', '0.31', '0.04'],
      ['petal_width', '0.12', '0.03'],
      ['sepal_width', '0.02', '0.01'],
    ]);
    const slice = await page.$$eval('[data-testid=slices][data-column=size] tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(slice).toEqual([
      ['big', '20', '0.95'],
      ['small', '10', '0.8'],
      ['gap', '', '0.15'],
    ]);
    const listed = await page.$$eval('[data-testid=run-metrics] [data-metric]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.metric!));
    expect(listed).toContain('evaluate.accuracy');
    expect(listed.filter((k) => /importance|slices/.test(k))).toEqual([]);
    await shot('importance-slices');
  });

  it("shows runs' names, tags and notes and a template stage's dotted metric; deletes and restores a run after a confirmation, as the CLI sees it", async () => {
    const cli = (...args: string[]) => runJson(args, { cwd: fx.dir, env: fx.env });
    // A template stage whose item has a dot (train@lr0.1): its metrics are train@lr0.1.KEY.
    const t = await openTracker(fx.runsDir);
    await t.logMetrics([
      { runId: fx.weatherRun, stage: 'train@lr0.1', key: 'accuracy', step: null, value: 0.9, time: Date.now() },
      { runId: fx.irisRun, stage: 'train@lr0.1', key: 'accuracy', step: null, value: 0.7, time: Date.now() },
    ]);
    await t.close();
    expect((await cli('runs', 'rename', fx.weatherRun, 'weather-base')).code).toBe(0);
    expect((await cli('runs', 'tag', fx.weatherRun, 'owner=ben', 'data=2024')).code).toBe(0);
    expect((await cli('runs', 'note', fx.weatherRun, 'rain_mm is empty in this export')).code).toBe(0);
    expect((await cli('runs', 'tag', fx.irisRun, 'owner=ana')).code).toBe(0);

    await page.goto(ui.url);
    await page.waitForFunction((id) => document.querySelector(`[data-run-id="${id}"] [data-col=run]`)?.textContent === 'weather-base', fx.weatherRun);
    await page.click('[data-testid=columns-button]');
    await page.check('[data-column="tags"]');
    await page.check('[data-column="name"]');
    await page.check('[data-column="metrics.train@lr0.1.accuracy"]');
    await page.click('[data-testid=columns-button]');
    expect(await page.textContent(`[data-run-id="${fx.weatherRun}"] [data-col=tags]`)).toBe('data=2024 owner=ben');
    expect(await page.textContent(`[data-run-id="${fx.weatherRun}"] [data-col=name]`)).toBe('weather-base');
    expect(await page.textContent(`[data-run-id="${fx.weatherRun}"] [data-col="metrics.train@lr0.1.accuracy"]`)).toBe('0.9');
    await page.click('[role=columnheader][data-col="metrics.train@lr0.1.accuracy"]');
    await expect.poll(async () => (await rowIds()).slice(0, 2), { timeout: 30_000 }).toEqual([fx.weatherRun, fx.irisRun]);
    expect((await columnValues('metrics.train@lr0.1.accuracy')).slice(0, 3)).toEqual(['0.9', '0.7', '']);
    expect(await page.$('[data-testid=filter-error]')).toBeNull();
    await shot('names-tags');

    await page.goto(`${ui.url}#/runs/${fx.weatherRun}`);
    await page.waitForSelector('[data-testid=run-note]');
    expect(await page.textContent('[data-testid=run-name]')).toBe('weather-base');
    expect(await page.textContent('[data-testid=run-note]')).toBe('rain_mm is empty in this export');
    expect(await page.$$eval('[data-testid=run-tags] [data-tag]', (ts) => ts.map((x) => x.textContent))).toEqual(['data=2024', 'owner=ben']);
    expect(await page.getAttribute('[data-testid=run-metrics] [data-metric="train@lr0.1.accuracy"] td', 'data-value')).toBe('0.9');

    await page.click('[data-testid=delete-run]');
    expect(await page.textContent('[data-testid=confirm-question]')).toContain('Delete run weather-base');
    await page.click('[data-testid=confirm]');
    await page.waitForSelector('[data-testid=run-deleted]');
    const listed = async (...flags: string[]) => (await cli('runs', 'list', ...flags)).json.runs.map((r: { id: string }) => r.id);
    expect(await listed()).not.toContain(fx.weatherRun);
    expect(await listed('--deleted')).toContain(fx.weatherRun);
    await page.goto(ui.url);
    await waitRows(6);
    expect(await rowIds()).not.toContain(fx.weatherRun);
    await page.check('[data-testid=show-deleted]');
    await waitRows(7);
    expect(await page.textContent(`[data-run-id="${fx.weatherRun}"] [data-col=run] .badge.deleted`)).toBe('deleted');
    await page.goto(`${ui.url}#/runs/${fx.weatherRun}`);
    await page.click('[data-testid=restore-run]');
    await page.click('[data-testid=confirm]');
    await page.waitForSelector('[data-testid=delete-run]');
    expect(await page.$('[data-testid=run-deleted]')).toBeNull();
    expect(await listed()).toContain(fx.weatherRun);
  });

  it('promotes a model after a confirmation; the alias moves and the CLI agrees', async () => {
    await page.goto(`${ui.url}#/models`);
    await page.waitForSelector('[data-model=iris] [data-version]');
    const versions = (await page.$$eval('[data-model=iris] [data-version]', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.version)))).slice(0, 2);
    for (const v of [versions[1]!, versions[0]!]) {
      await page.click(`[data-model=iris] [data-version="${v}"] [data-testid=promote]`);
      expect(await page.textContent('[data-testid=confirm-question]')).toContain(`Point iris@production at v${v}?`);
      await page.click('[data-testid=confirm]');
      await page.waitForSelector(`[data-model=iris] [data-version="${v}"] [data-alias=production]`);
      expect(await page.$$eval('[data-alias=production]', (a) => a.length)).toBe(1);
      const cli = await runJson(['models', 'show', 'iris@production'], { cwd: fx.dir, env: fx.env });
      expect(cli.json.version).toBe(v);
    }
    await shot('models');
    await page.click('[data-model=iris] [data-testid="rollback-production"]');
    await page.click('[data-testid=confirm]');
    await page.waitForSelector(`[data-model=iris] [data-version="${versions[1]}"] [data-alias=production]`);
    expect((await runJson(['models', 'show', 'iris@production'], { cwd: fx.dir, env: fx.env })).json.version).toBe(versions[1]);
  });

  it('turns promote, rollback and delete off with --read-only', async () => {
    const ro = await startUi(fx, '--read-only');
    try {
      await page.goto(`${ro.url}#/models`);
      await page.waitForSelector('[data-model=iris] [data-testid=promote]');
      expect(await page.$$eval('[data-testid=promote]', (b) => b.every((x) => (x as HTMLButtonElement).disabled))).toBe(true);
      expect(await page.$eval('[data-testid="rollback-production"]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      await page.goto(`${ro.url}#/runs/${fx.weatherRun}`);
      await page.waitForSelector('[data-testid=delete-run]');
      expect(await page.$eval('[data-testid=delete-run]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    } finally {
      await ro.stop();
    }
  });

  it('fetched nothing from anywhere but the dashboard and threw no page errors', () => {
    expect(offsite.filter((u) => !/^http:\/\/127\.0\.0\.1:\d+\//.test(u))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
