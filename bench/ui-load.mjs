// `mlpipe ui` page load in headless Chromium: from navigation to the runs table showing its rows,
// for trackers of 1,000 and 10,000 runs (BENCH_SIZES; 4 params, 20 final metrics, 2 curves of 20
// points, 1 in 20 failed, names, tags and notes on some, 1 in 50 deleted), seeded through the
// tracker API, next to two references measured in the same session, alternated: a tracker of 10
// runs (the page's own cost) and a navigation to about:blank (the browser's). BENCH_REPS rounds,
// default 5; one browser, a fresh context each load, so nothing is cached. Also: the first API
// read of each tracker (server start) and a scroll to the 10,000th row.
// Goal: under 1 s for 1,000 runs. Needs `npm run build` first and Chromium (CHROMIUM_PATH, else
// `chromium` on the PATH).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { openTracker } from '../dist/core/tracker/open-tracker.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SIZES = [10, ...(process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number)];
const CHROMIUM = process.env.CHROMIUM_PATH || execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = [];

async function seed(runs) {
  const dir = mkdtempSync(join(tmpdir(), `mlpipe-bench-ui-${runs}-`));
  dirs.push(dir);
  const tracker = await openTracker(dir);
  const t0 = Date.now() - runs * 60_000;
  for (let r = 0; r < runs; r++) {
    const id = `r-${r.toString(16).padStart(12, '0')}`;
    const startedAt = t0 + r * 60_000;
    const failed = r % 20 === 7;
    await tracker.createRun({
      id, pipeline: r % 2 ? 'iris' : 'sentiment', specPath: join(dir, 'pipeline.yaml'), specHash: 'h', status: failed ? 'failed' : 'completed', startedAt,
      name: r % 5 === 0 ? `run-${r}` : null, note: r % 10 === 0 ? `note ${r}` : null, deletedAt: r % 50 === 1 ? startedAt + 9000 : null,
      tags: r % 3 === 0 ? { owner: r % 2 ? 'ana' : 'ben', phase: `p${r % 4}` } : {},
      endedAt: startedAt + 5000, params: { lr: 0.001 * (1 + (r % 10)), epochs: 20, model: { units: 8 << (r % 3), dropout: 0.1 * (r % 4) } }, host: hostname(), pid: process.pid, sweepId: r % 3 ? `s-${Math.floor(r / 30)}` : null,
    });
    for (const stage of ['prepare', 'train', 'evaluate']) {
      const fail = failed && stage === 'evaluate';
      await tracker.recordStageRun({ runId: id, stage, kind: stage === 'prepare' ? 'preprocess' : stage, status: fail ? 'failed' : 'completed', reason: 'no cache entry', durationMs: 1000, error: fail ? 'stage evaluate: the model takes 4 inputs, the data has 5\nloading model\nscoring 30 rows' : null });
    }
    const points = [];
    for (let m = 0; m < 20; m++) points.push({ runId: id, stage: m < 10 ? 'evaluate' : 'train', key: m % 4 === 0 ? `loss_${m}` : `metric_${m}`, step: null, value: Math.sin(r * 7 + m) * 0.5 + 0.5, time: startedAt });
    for (const key of ['loss', 'val_accuracy']) for (let e = 0; e < 20; e++) points.push({ runId: id, stage: 'train', key, step: e, value: 1 / (e + 1 + (r % 5)), time: startedAt });
    await tracker.logMetrics(points);
  }
  await tracker.close();
  return dir;
}

function startUi(runsDir) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'ui', '--port', '0', '--runs-dir', runsDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = / at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve({ url: m[1], startMs: performance.now() - started, stop: () => new Promise((r) => (child.on('close', r), child.kill('SIGTERM'))) });
    });
    child.on('close', (code) => reject(new Error(`mlpipe ui exited ${code}: ${err}`)));
  });
}

let browser;
async function loadOnce(url, runs) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await ctx.newPage();
    const t = performance.now();
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction((n) => document.querySelector('[data-testid=run-count]')?.textContent === `${n} of ${n} runs` && document.querySelector('.table .body [data-run-id]'), shown(runs), { polling: 'raf' });
    const loadMs = performance.now() - t;
    let scrollMs = null;
    if (runs >= 10000) {
      const s = performance.now();
      await page.$eval('.table', (el) => (el.scrollTop = el.scrollHeight));
      await page.waitForFunction(() => document.querySelector('.table .body [data-run-id="r-000000000000"]'), null, { polling: 'raf' });
      scrollMs = performance.now() - s;
    }
    const api = await page.evaluate(() => performance.getEntriesByType('resource').find((e) => e.name.includes('/api/runs'))?.duration ?? 0);
    return { loadMs, scrollMs, api, rows: await page.$$eval('.table .body [data-run-id]', (r) => r.length) };
  } finally {
    await ctx.close();
  }
}

/** Runs the table lists: the deleted ones (1 in 50) are left out. */
const shown = (runs) => runs - Math.floor((runs + 48) / 50);

async function blankOnce() {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await ctx.newPage();
    const t = performance.now();
    await page.goto('about:blank');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    return performance.now() - t;
  } finally {
    await ctx.close();
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)].toFixed(0)} ms (min ${s[0].toFixed(0)}, max ${s.at(-1).toFixed(0)})`;
};

const servers = [];
browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS }); // playwright gives it a new, empty profile
try {
  for (const n of SIZES) {
    const s = performance.now();
    const dir = await seed(n);
    const seedMs = performance.now() - s;
    servers.push({ n, seedMs, ...(await startUi(dir)) });
  }
  const results = new Map(SIZES.map((n) => [n, { load: [], scroll: [], api: [], rows: 0 }]));
  const blank = [];
  for (let rep = 0; rep < REPS; rep++) {
    blank.push(await blankOnce());
    for (const srv of rep % 2 ? [...servers].reverse() : servers) {
      const r = await loadOnce(srv.url, srv.n).catch((err) => { throw new Error(`${srv.n} runs: ${err.message}`); });
      const acc = results.get(srv.n);
      acc.load.push(r.loadMs);
      acc.api.push(r.api);
      if (r.scrollMs !== null) acc.scroll.push(r.scrollMs);
      acc.rows = r.rows;
    }
  }
  console.log(`mlpipe ui page load, navigation → rows shown, ${REPS} rounds alternated (one browser, a fresh context — empty cache — each load); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`about:blank: ${stats(blank)}  (reference: the browser alone)`);
  for (const srv of servers) {
    const acc = results.get(srv.n);
    console.log(
      `${String(srv.n).padStart(6)} runs (${shown(srv.n)} listed): load ${stats(acc.load)} (of it /api/runs ${stats(acc.api)}); server start incl. first read ${srv.startMs.toFixed(0)} ms; DOM rows ${acc.rows}${acc.scroll.length ? `; scroll to the last row ${stats(acc.scroll)}` : ''}${srv.n === 10 ? '  (reference)' : ''}`,
    );
  }
} finally {
  await browser.close();
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
