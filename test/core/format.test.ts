import { describe, expect, it } from 'vitest';
import type { Comparison } from '../../src/app/compare/build-comparison.js';
import { paint, shouldColor, stripAnsi, visibleWidth } from '../../src/render/ansi.js';
import { comparisonCsv, renderComparison } from '../../src/render/comparison.js';
import { formatDelta, formatDuration } from '../../src/render/numbers.js';
import { renderRunDetails, renderRunList } from '../../src/render/runs.js';
import { renderCsv, renderMarkdown, renderTable, type Table } from '../../src/render/table.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 4, 1, 12, 0);

const comparison: Comparison = {
  schemaVersion: 1,
  baseline: 'r-aaa111000001',
  runs: [
    { id: 'r-aaa111000001', shortId: 'r-aaa111', pipeline: 'iris', status: 'completed', startedAt: T0, durationMs: 1500, isBaseline: true, name: null, tags: {}, note: null, deletedAt: null },
    { id: 'r-aaa222000002', shortId: 'r-aaa222', pipeline: 'iris', status: 'completed', startedAt: T0 + 60_000, durationMs: 1500, isBaseline: false, name: null, tags: {}, note: null, deletedAt: null },
    { id: 'r-bbb333000003', shortId: 'r-bbb333', pipeline: 'iris', status: 'failed', startedAt: T0 + 120_000, durationMs: null, isBaseline: false, name: null, tags: {}, note: null, deletedAt: null },
  ],
  params: [
    { name: 'epochs', values: [10, 10, 10], changed: false },
    { name: 'lr', values: [0.01, 0.1, 0.5], changed: true },
    { name: 'layers', values: [[8, 4], [8], null], changed: true },
  ],
  metrics: [
    { name: 'evaluate.accuracy', direction: 'higher', ranked: true, values: [0.9, 0.95, 0.8], deltas: [null, 0.05, -0.1], best: [1] },
    { name: 'evaluate.log_loss', direction: 'lower', ranked: true, values: [0.3, 0.25, null], deltas: [null, -0.05, null], best: [1] },
  ],
  curves: [
    {
      name: 'train.loss',
      direction: 'lower',
      points: [
        [1, 0.5, 0.2].map((value, step) => ({ step, value })),
        [0.9, 0.4, 0.3, 0.15].map((value, step) => ({ step, value })),
        [],
      ],
    },
  ],
};

describe('table renderers', () => {
  const table: Table = {
    columns: [{ header: 'NAME' }, { header: 'VALUE', align: 'right' }],
    rows: [{ section: 'group' }, { cells: ['a|b', { text: '1.5', styles: ['bold'] }] }, { cells: ['学习率', '10'] }],
  };

  it('aligns plain text columns by visible width and paints only when asked', () => {
    expect(renderTable(table)).toMatchInlineSnapshot(`
      "NAME    VALUE
      group
      a|b       1.5
      学习率     10
      "
    `);
    const colored = renderTable(table, { color: true });
    expect(colored).toContain('\u001b[1m1.5\u001b[22m');
    expect(stripAnsi(colored)).toBe(renderTable(table));
  });

  it('writes markdown with escaped pipes, right-aligned columns and bold cells', () => {
    expect(renderMarkdown(table)).toMatchInlineSnapshot(`
      "| NAME | VALUE |
      | --- | ---: |
      | **group** | |
      | a\\|b | **1.5** |
      | 学习率 | 10 |
      "
    `);
  });

  it('quotes CSV fields that need it', () => {
    expect(renderCsv([['a', 'b,c', 'say "hi"'], [1, null, 'x\ny']])).toBe('a,"b,c","say ""hi"""\n1,,"x\ny"\n');
  });

  it('measures wide characters and ignores ANSI codes', () => {
    expect(visibleWidth(paint('abc', ['red'], true))).toBe(3);
    expect(visibleWidth('中文')).toBe(4);
    expect(visibleWidth('▁▂▃ ★')).toBe(5);
  });

  it('colours on a TTY or with FORCE_COLOR, never with NO_COLOR alone off a TTY', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
  });
});

describe('comparison renderers', () => {
  it('renders the terminal table with deltas, best marks, blank cells and sparklines', () => {
    expect(renderComparison(comparison, 'table')).toMatchInlineSnapshot(`
      "                     r-aaa111 (baseline)  r-aaa222          r-bbb333
        status             completed            completed         failed
        started            2024-05-01 12:00     2024-05-01 12:01  2024-05-01 12:02
      params
        epochs             10                   10                10
        lr                 0.01                 0.1               0.5
        layers             [8,4]                [8]
      metrics
        evaluate.accuracy  0.9                  0.95 (+0.05 ▲) ★  0.8 (-0.1 ▼)
        evaluate.log_loss  0.3                  0.25 (-0.05 ▲) ★
      curves
        train.loss         █▄▁ 0.2              ▇▃▂▁ 0.15
      Δ vs baseline r-aaa111: ▲ better, ▼ worse; ★ best; lower is better for evaluate.log_loss
      "
    `);
    const colored = renderComparison(comparison, 'table', { color: true });
    expect(colored).toContain('\u001b[32m0.95 (+0.05 ▲) ★');
    expect(colored).toContain('\u001b[31m0.8 (-0.1 ▼)');
  });

  it('renders markdown ready for a pull-request comment, with --fail-if outcomes', () => {
    const conditions = [
      {
        expression: 'accuracy < baseline - 0.01',
        holds: true,
        checks: [
          { run: 'r-aaa222000002', holds: false, values: { accuracy: 0.95, 'baseline.accuracy': 0.9 } },
          { run: 'r-bbb333000003', holds: true, values: { accuracy: 0.8, 'baseline.accuracy': 0.9 } },
        ],
      },
      { expression: 'log_loss > 1', holds: false, checks: [] },
    ];
    expect(renderComparison(comparison, 'markdown', { conditions })).toMatchInlineSnapshot(`
      "#### mlpipe: 3 runs of iris
      | | r-aaa111 (baseline) | r-aaa222 | r-bbb333 |
      | --- | --- | --- | --- |
      |   status | completed | completed | failed |
      |   started | 2024-05-01 12:00 | 2024-05-01 12:01 | 2024-05-01 12:02 |
      | **params** | | | |
      |   epochs | 10 | 10 | 10 |
      |   lr | 0.01 | 0.1 | 0.5 |
      |   layers | [8,4] | [8] | |
      | **metrics** | | | |
      |   evaluate.accuracy | 0.9 | **0.95 (+0.05 ▲) ★** | 0.8 (-0.1 ▼) |
      |   evaluate.log_loss | 0.3 | **0.25 (-0.05 ▲) ★** | |
      | **curves** | | | |
      |   train.loss | █▄▁ 0.2 | ▇▃▂▁ 0.15 | |

      Δ vs baseline r-aaa111: ▲ better, ▼ worse; ★ best; lower is better for evaluate.log_loss

      - ❌ \`--fail-if accuracy < baseline - 0.01\` holds
      - ✅ \`--fail-if log_loss > 1\` does not hold

      > fail-if accuracy < baseline - 0.01 holds for r-bbb333: accuracy = 0.8, baseline.accuracy = 0.9
      "
    `);
  });

  it('writes one CSV row per run with raw values', () => {
    expect(comparisonCsv(comparison)).toMatchInlineSnapshot(`
      "run,pipeline,status,started,baseline,params.epochs,params.lr,params.layers,evaluate.accuracy,evaluate.log_loss
      r-aaa111000001,iris,completed,2024-05-01T12:00:00.000Z,true,10,0.01,"[8,4]",0.9,0.3
      r-aaa222000002,iris,completed,2024-05-01T12:01:00.000Z,false,10,0.1,[8],0.95,0.25
      r-bbb333000003,iris,failed,2024-05-01T12:02:00.000Z,false,10,0.5,,0.8,
      "
    `);
  });
});

const UNLABELLED = { name: null, tags: {}, note: null, deletedAt: null, params: {}, sweepId: null, gitCommit: null };

describe('run renderers', () => {
  it('lists runs with stage counts and headline metrics', () => {
    const text = renderRunList([
      { id: 'r-aaa111000001', shortId: 'r-aaa111', pipeline: 'iris', status: 'completed', startedAt: T0, endedAt: T0 + 8100, durationMs: 8100, ran: 2, cached: 3, failed: 0, metrics: {}, headline: { accuracy: 0.93333, f1: 0.92 }, ...UNLABELLED },
      { id: 'r-bbb333000003', shortId: 'r-bbb333', pipeline: 'iris', status: 'failed', startedAt: T0, endedAt: null, durationMs: null, ran: 1, cached: 0, failed: 1, metrics: {}, headline: {}, ...UNLABELLED },
    ]);
    expect(text).toMatchInlineSnapshot(`
      "ID        PIPELINE  STATUS     STARTED           DURATION  STAGES                     METRICS
      r-aaa111  iris      completed  2024-05-01 12:00      8.1s  2 ran, 3 cached            accuracy=0.9333 f1=0.92
      r-bbb333  iris      failed     2024-05-01 12:00            1 ran, 0 cached, 1 failed
      "
    `);
    expect(renderRunList([])).toBe('no runs recorded yet; run a pipeline with: mlpipe run pipeline.yaml\n');
    expect(renderRunList([], { hiddenDeleted: 2 })).toBe('no runs but 2 deleted runs: mlpipe runs list --deleted lists them\n');
  });

  it('adds the name and tags columns when a listed run has them, and marks deleted runs', () => {
    const base = { pipeline: 'iris', status: 'completed' as const, startedAt: T0, endedAt: T0 + 1000, durationMs: 1000, ran: 1, cached: 0, failed: 0, metrics: {}, headline: {}, params: {}, sweepId: null, gitCommit: null, note: null };
    const text = renderRunList([
      { ...base, id: 'r-aaa111000001', shortId: 'r-aaa111', name: 'baseline', tags: { owner: 'ana', 'mlpipe.user': 'x' }, deletedAt: null },
      { ...base, id: 'r-bbb333000003', shortId: 'r-bbb333', name: null, tags: {}, deletedAt: T0 + 5000 },
    ]);
    expect(text).toMatchInlineSnapshot(`
      "ID        NAME      PIPELINE  STATUS               STARTED           DURATION  STAGES           METRICS  TAGS
      r-aaa111  baseline  iris      completed            2024-05-01 12:00      1.0s  1 ran, 0 cached           owner=ana
      r-bbb333            iris      completed (deleted)  2024-05-01 12:00      1.0s  1 ran, 0 cached
      "
    `);
  });

  it('shows a run with its failed stage error', () => {
    const text = renderRunDetails({
      schemaVersion: 1,
      run: {
        id: 'r-aaa111000001',
        shortId: 'r-aaa111',
        pipeline: 'iris',
        specPath: '/w/pipeline.yaml',
        specHash: 'abcdef0123456789',
        status: 'failed',
        startedAt: T0,
        endedAt: T0 + 2000,
        durationMs: 2000,
        params: { lr: 0.1 },
        gitCommit: '1a2b3c4',
        host: 'box',
        pid: 42,
        backend: 'cpu',
        error: 'train: boom',
      },
      stages: [
        { stage: 'prepare', kind: 'shell', status: 'completed', cachedFrom: 'r-old', reason: 'restored: identical inputs', durationMs: 12 },
        { stage: 'train', kind: 'shell', status: 'failed', reason: 'never run', durationMs: 1500, error: 'command exited with code 1\nTraceback' },
      ],
      metrics: { 'prepare.rows': 150 },
      curves: {},
      artifacts: [{ stage: 'prepare', name: 'data.csv', path: '/w/data.csv', hash: '0123456789abcdef0123', size: 2048 }],
    });
    expect(text).toMatchInlineSnapshot(`
      "run r-aaa111000001
        pipeline   iris
        status     failed
        started    2024-05-01 12:00 (2.0s)
        spec       /w/pipeline.yaml (sha256 abcdef012345)
        git commit 1a2b3c4
        backend    cpu
        host       box (pid 42)
      params
        lr = 0.1
      stages
        STAGE    KIND   STATUS     SOURCE         DURATION  REASON
        prepare  shell  completed  cache (r-old)      12ms  restored: identical inputs
        train    shell  failed                        1.5s  never run
      metrics
        prepare.rows  150
      artifacts
        STAGE    NAME      PATH         HASH                  SIZE
        prepare  data.csv  /w/data.csv  0123456789abcdef  2.00 KiB
      error
        train: command exited with code 1
        Traceback
      "
    `);
  });
});

describe('numbers', () => {
  it('formats deltas and durations', () => {
    expect([0.05, -0.1, 0, 1 / 3].map(formatDelta)).toEqual(['+0.05', '-0.1', '±0', '+0.3333']);
    expect([null, 12, 8100, 185_000, 3_720_000].map(formatDuration)).toEqual(['', '12ms', '8.1s', '3m 05s', '1h 02m']);
  });
});
