import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalStore } from '../../src/core/store/local-store.js';
import { openExistingTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import type { CompareResponse, ModelsResponse, RunPageResponse, RunsResponse } from '../../src/serve/ui/api-types.js';
import { buildUiServer } from '../../src/serve/ui/ui-server.js';
import { runJson } from '../helpers/cli.js';
import { makeUiFixture, type UiFixture } from '../helpers/ui-fixture.js';

let fx: UiFixture;
let tracker: Tracker;
let app: FastifyInstance;
let readOnly: FastifyInstance;
const internal: Error[] = [];

const assets = new Map([['/index.html', { body: Buffer.from('<!doctype html><title>mlpipe</title>'), type: 'text/html; charset=utf-8', immutable: false }]]);

beforeAll(async () => {
  fx = await makeUiFixture();
  tracker = await openExistingTracker(fx.runsDir);
  const store = openLocalStore(fx.runsDir);
  const common = { tracker, store, runsDir: fx.runsDir, assets, pollMs: 100, onInternalError: (e: Error) => internal.push(e) };
  app = buildUiServer({ ...common, readOnly: false });
  readOnly = buildUiServer({ ...common, readOnly: true });
}, 240_000);

afterAll(async () => {
  await app?.close();
  await readOnly?.close();
  tracker?.close();
  await fx?.cleanup();
  expect(internal).toEqual([]);
});

const get = async <T = any>(url: string, server = app) => {
  const r = await server.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as T, headers: r.headers, raw: r.rawPayload };
};
const post = async <T = any>(url: string, payload: unknown, server = app) => {
  const r = await server.inject({ method: 'POST', url, payload: payload as object });
  return { status: r.statusCode, body: r.json() as T };
};

describe('GET /api/runs', () => {
  it('lists every run newest first with params, final metrics and why a failed run failed', async () => {
    const { status, body } = await get<RunsResponse>('/api/runs');
    expect(status).toBe(200);
    expect(body.total).toBe(6);
    const listed = await runJson(['runs', 'list'], { cwd: fx.dir, env: fx.env });
    expect(body.runs.map((r) => r.id)).toEqual(listed.json.runs.map((r: { id: string }) => r.id));
    expect(body.runs.map((r) => r.id).slice(0, 2)).toEqual([fx.failedRun, fx.weatherRun]);
    expect(body.runs.at(-1)!.id).toBe(fx.irisRun);
    expect(body.columns.params).toEqual(['epochs', 'lr', 'max_temp', 'min_temp']);
    expect(body.columns.metrics).toContain('evaluate.accuracy');
    expect(body.columns.metrics.some((m) => m.includes('confusion'))).toBe(false);
    const failed = body.runs[0]!;
    expect(failed).toMatchObject({ status: 'failed', pipeline: 'weather', failure: { stage: 'monthly', error: 'command exited with code 3', lastLines: ['reading out/clean.csv', '365 rows, 0 with rain_mm'] } });
    const sweep = body.runs.filter((r) => r.sweepId === fx.sweepId);
    expect(sweep.map((r) => r.params.lr).sort()).toEqual([0.005, 0.05, 0.2]);
    expect(typeof sweep[0]!.metrics['evaluate.accuracy']).toBe('number');
  });

  it('filters with the filter language, run as SQL by the tracker', async () => {
    const { status, body } = await get<RunsResponse>(`/api/runs?filter=${encodeURIComponent('params.lr >= 0.05 and metrics.train.epochs > 0')}`);
    expect(status).toBe(200);
    expect(body.runs.map((r) => r.params.lr).sort()).toEqual([0.05, 0.2]);
    expect(body.total).toBe(6);
    expect(body.matching).toBe(2);
    const none = await get<RunsResponse>(`/api/runs?filter=${encodeURIComponent('params.max_temp > 100')}`);
    expect(none.body.runs).toEqual([]);
    const cli = await runJson(['runs', 'list', '--filter', "pipeline = 'weather' or params.lr < 0.01"], { cwd: fx.dir, env: fx.env });
    const api = await get<RunsResponse>(`/api/runs?filter=${encodeURIComponent("pipeline = 'weather' or params.lr < 0.01")}`);
    expect(api.body.runs.map((r) => r.id)).toEqual(cli.json.runs.map((r: { id: string }) => r.id));
    expect(api.body.runs).toHaveLength(3);
  });

  it('sorts by any column and pages, missing values last', async () => {
    const all = await get<RunsResponse>('/api/runs?sort=metrics.evaluate.accuracy&dir=desc');
    const acc = all.body.runs.map((r) => r.metrics['evaluate.accuracy'] ?? null);
    expect(acc.slice(4)).toEqual([null, null]);
    expect(acc.slice(0, 4)).toEqual([...acc.slice(0, 4)].sort((a, b) => b! - a!));
    const page = await get<RunsResponse>('/api/runs?sort=metrics.evaluate.accuracy&dir=desc&offset=2&limit=3');
    expect(page.body).toMatchObject({ offset: 2, matching: 6, total: 6 });
    expect(page.body.runs.map((r) => r.id)).toEqual(all.body.runs.slice(2, 5).map((r) => r.id));
    const byLr = await get<RunsResponse>('/api/runs?sort=params.lr&dir=asc&limit=3');
    expect(byLr.body.runs.map((r) => r.params.lr)).toEqual([0.005, 0.01, 0.05]);
    const started = await get<RunsResponse>('/api/runs?sort=started&dir=asc&limit=1');
    expect(started.body.runs[0]!.id).toBe(fx.irisRun);
    const searched = await get<RunsResponse>('/api/runs?search=WEATHER%20monthly');
    expect(searched.body.runs.map((r) => r.id)).toEqual([fx.failedRun]);
  });

  it('takes hostile filter values as values: nothing is injected', async () => {
    for (const f of ["pipeline = 'x'' or ''1''=''1'", `pipeline = "weather""; delete from runs; --"`, "pipeline in ('x'') or 1=1 --')"]) {
      const r = await get<RunsResponse>(`/api/runs?filter=${encodeURIComponent(f)}`);
      expect([r.status, r.body.runs]).toEqual([200, []]);
    }
    const search = await get<RunsResponse>(`/api/runs?search=${encodeURIComponent("%' or 1=1 --")}`);
    expect(search.body.runs).toEqual([]);
    expect((await get<RunsResponse>('/api/runs')).body.total).toBe(6);
  });

  it.each([
    ['a syntax error', `filter=${encodeURIComponent('params.lr <')}`, /invalid filter: .* at column 12/],
    ['an unknown name', `filter=${encodeURIComponent('params.lrr > 1')}`, /no run has the param "params.lrr"; did you mean "params.lr"\? \(known: params.epochs, params.lr, params.max_temp, params.min_temp\)/],
    ['a number alone', 'filter=3', /a filter must be a condition/],
    ['text compared with a number', `filter=${encodeURIComponent("pipeline > 3")}`, /one is text, the other a number/],
    ['an unclosed string', `filter=${encodeURIComponent("pipeline = 'iris")}`, /the string opened here is not closed/],
    ['SQL instead of a filter', `filter=${encodeURIComponent("1=1; drop table runs")}`, /unexpected character ";"/],
    ['an unknown query parameter', 'page=3', /must NOT have additional properties: page/],
    ['an unknown sort column', 'sort=bogus', /cannot sort by "bogus"/],
    ['a sort column nobody has', 'sort=metrics.evaluate.nope', /no run has the final metric "metrics.evaluate.nope"/],
    ['a bad direction', 'sort=started&dir=up', /querystring\/dir must be equal to one of the allowed values/],
    ['a negative offset', 'offset=-1', /querystring\/offset must be >= 0/],
    ['too large a page', 'limit=5000', /querystring\/limit must be <= 1000/],
    ['a limit that is not a number', 'limit=ten', /querystring\/limit must be integer/],
    ['a repeated parameter', 'filter=a&filter=b', /querystring\/filter must be string/],
  ])('answers 400 for %s', async (_what, qs, message) => {
    const { status, body } = await get(`/api/runs?${qs}`);
    expect(status).toBe(400);
    expect(body.message).toMatch(message);
  });
});

describe('GET /api/runs/:id', () => {
  it('shows stages with cache status and reason, the log tail, artifacts and the spec', async () => {
    const { status, body } = await get<RunPageResponse>(`/api/runs/${fx.failedRun.slice(0, 10)}`);
    expect(status).toBe(200);
    expect(body.run.id).toBe(fx.failedRun);
    const byStage = Object.fromEntries(body.stages.map((s) => [s.stage, s]));
    expect(byStage.clean).toMatchObject({ status: 'completed', cached: true, cachedFrom: fx.weatherRun, reason: 'restored: identical inputs' });
    expect(byStage.monthly).toMatchObject({ status: 'failed', cached: false, error: 'command exited with code 3', log: { source: 'log file', lines: ['reading out/clean.csv', '365 rows, 0 with rain_mm'] } });
    expect(byStage.monthly!.reason).toMatch(/scripts\/monthly\.mjs changed/);
    expect(byStage.summary).toMatchObject({ status: 'skipped' });
    expect(body.spec).toMatchObject({ path: join(fx.dir, 'weather', 'pipeline.yaml'), unchanged: true });
    expect(body.spec.text).toContain('name: weather');
    expect(body.artifacts.find((a) => a.stage === 'clean')).toMatchObject({ name: 'out/clean.csv', type: 'file', inCache: true });
  });

  it('gives an iris run its curves and its labelled confusion matrix', async () => {
    const { body } = await get<RunPageResponse>(`/api/runs/${fx.irisRun}`);
    expect(body.curves.map((c) => c.name)).toContain('train.loss');
    expect(body.curves.find((c) => c.name === 'train.loss')!.points).toHaveLength(12);
    expect(body.confusion).toMatchObject({ stage: 'evaluate', matrix: { labels: ['setosa', 'versicolor', 'virginica'] } });
    expect(body.confusion!.matrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('answers 404 for an unknown run, 400 for an ambiguous prefix or a malformed path', async () => {
    expect((await get('/api/runs/r-nope')).status).toBe(404);
    expect((await get('/api/runs/r-nope')).body.message).toContain('no run matches "r-nope"');
    expect((await get('/api/runs/r-')).status).toBe(400);
    expect((await get('/api/runs/%E0%A4%A')).status).toBe(400);
  });
});

describe('artifact downloads', () => {
  it('serves a file output from the cache, byte for byte', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/runs/${fx.failedRun}/artifacts/clean/${encodeURIComponent('out/clean.csv')}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain('filename="clean.csv"');
    expect(res.rawPayload.equals(await readFile(join(fx.dir, 'weather', 'out', 'clean.csv')))).toBe(true);
  });

  it('serves a file of a folder output, and says which files there are otherwise', async () => {
    const ok = await app.inject({ method: 'GET', url: `/api/runs/${fx.irisRun}/artifacts/prepare/dataset?file=meta.json` });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('features');
    const folder = await get(`/api/runs/${fx.irisRun}/artifacts/prepare/dataset`);
    expect(folder.status).toBe(404);
    expect(folder.body.message).toContain('is a folder');
    expect(folder.body.hint).toContain('meta.json');
    expect((await get(`/api/runs/${fx.irisRun}/artifacts/prepare/dataset?file=../../tracker.db`)).status).toBe(404);
    expect((await get(`/api/runs/${fx.irisRun}/artifacts/nope/model`)).status).toBe(404);
    expect((await get(`/api/runs/${fx.irisRun}/artifacts/prepare/dataset?file=`)).status).toBe(400);
  });
});

describe('GET /api/compare', { timeout: 180_000 }, () => {
  it('computes exactly what `mlpipe compare runs --json` prints for the same runs and baseline', async () => {
    const ids = fx.sweepRuns;
    const ui = await get<CompareResponse>(`/api/compare?runs=${ids.join(',')}&baseline=${ids[1]}`);
    expect(ui.status).toBe(200);
    const cli = await runJson(['compare', 'runs', ...ids, '--baseline', ids[1]!], { cwd: fx.dir, env: fx.env });
    expect(cli.code).toBe(0);
    expect(ui.body.comparison).toEqual(cli.json);
    expect(ui.body.matrices.map((m) => m.runId)).toEqual(cli.json.runs.map((r: any) => r.id));
    expect(ui.body.rows.map((r) => r.id)).toEqual(cli.json.runs.map((r: any) => r.id));
  });

  it('compares a whole sweep', async () => {
    const { status, body } = await get<CompareResponse>(`/api/compare?sweep=${fx.sweepId}`);
    expect(status).toBe(200);
    expect(body.comparison.sweep?.sweepId).toBe(fx.sweepId);
    expect(body.comparison.runs).toHaveLength(3);
  });

  it.each([
    ['nothing to compare', '', 400, /name the runs to compare/],
    ['empty ids', '?runs=,,', 400, /querystring\/runs must match pattern/],
    ['runs and a sweep', `?runs=r-a&sweep=s-b`, 400, /not both/],
    ['an unknown run', '?runs=r-nope', 404, /no run matches "r-nope"/],
    ['an unknown baseline', `?runs=${'x'}&baseline=r-nope`, 404, /no run matches/],
    ['an unknown parameter', '?runs=r-a&x=1', 400, /additional properties: x/],
  ])('answers %s (%s) with %i', async (_what, qs, code, message) => {
    const { status, body } = await get(`/api/compare${qs}`);
    expect(status).toBe(code);
    expect(body.message).toMatch(message);
  });
});

describe('models', { timeout: 180_000 }, () => {
  it('lists versions with aliases and headline metrics', async () => {
    const { body } = await get<ModelsResponse>('/api/models');
    expect(body.readOnly).toBe(false);
    const iris = body.models.find((m) => m.name === 'iris')!;
    expect(iris.versions.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(iris.versions[0]!.metrics)[0]).toBe('accuracy');
  });

  it('promotes and rolls back through the same functions as the CLI, which agrees', async () => {
    const versions = (await get<ModelsResponse>('/api/models')).body.models.find((m) => m.name === 'iris')!.versions.map((v) => v.version);
    const [newest, older] = versions;
    expect((await post('/api/models/iris/promote', { version: older, alias: 'staging' })).body).toMatchObject({ name: 'iris', alias: 'staging', version: older, changed: true });
    const moved = await post('/api/models/iris/promote', { version: newest, alias: 'staging' });
    expect(moved.body).toMatchObject({ version: newest, previous: older });
    const shown = await runJson(['models', 'show', 'iris@staging'], { cwd: fx.dir, env: fx.env });
    expect(shown.json.version).toBe(newest);
    expect((await post('/api/models/iris/rollback', { alias: 'staging' })).body).toMatchObject({ version: older, previous: newest });
    expect((await runJson(['models', 'show', 'iris@staging'], { cwd: fx.dir, env: fx.env })).json.version).toBe(older);
  });

  it.each([
    ['a missing version', '/api/models/iris/promote', { alias: 'production' }, 400, /must have required property 'version'/],
    ['a version that is not a number', '/api/models/iris/promote', { version: 'two', alias: 'production' }, 400, /body\/version must be integer/],
    ['an alias that reads as a version', '/api/models/iris/promote', { version: 1, alias: 'v2' }, 400, /would read as a version number/],
    ['an unregistered version', '/api/models/iris/promote', { version: 99, alias: 'production' }, 404, /no registered model matches "iris@99"/],
    ['an unknown model', '/api/models/nope/promote', { version: 1, alias: 'production' }, 404, /no registered model matches/],
    ['an alias with no history', '/api/models/iris/rollback', { alias: 'canary' }, 400, /cannot roll back iris@canary/],
  ])('answers %s (%s) with %i', async (_what, url, payload, code, message) => {
    const { status, body } = await post(url, payload);
    expect(status).toBe(code);
    expect(body.message).toMatch(message);
  });

  it('refuses to promote or roll back in read-only mode (403) and changes nothing', async () => {
    const before = (await get<ModelsResponse>('/api/models', readOnly)).body;
    expect(before.readOnly).toBe(true);
    expect((await post('/api/models/iris/promote', { version: 1, alias: 'production' }, readOnly)).status).toBe(403);
    expect((await post('/api/models/iris/rollback', { alias: 'staging' }, readOnly)).status).toBe(403);
    expect((await get<ModelsResponse>('/api/models', readOnly)).body).toEqual(before);
  });
});

describe('the rest', () => {
  it('serves the page at / and answers 404 as JSON for unknown paths', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect((await get('/api/nope')).status).toBe(404);
    expect((await get('/assets/../../package.json')).status).toBe(404);
  });

  it('streams a change event when the tracker changes', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const ctrl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/events`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const next = async (what: string) => {
      while (!text.includes(what)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${what}: ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await next('event: hello');
    // Let the feed take its first fingerprint, then move an alias: the next poll sees the change.
    await new Promise((r) => setTimeout(r, 300));
    await post('/api/models/iris/promote', { version: 1, alias: 'live-test' });
    await next('event: change');
    ctrl.abort();
  });
});
