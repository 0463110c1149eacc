import type { TopLevelSpec } from 'vega-lite';
import type { ComparedRun, CurveRow } from '../app/compare/build-comparison.js';
import type { ConfusionMatrix } from '../app/report/confusion-matrix.js';

/*
 * The Vega-Lite definitions of every mlpipe chart. Pure (no I/O, type-only imports): `mlpipe report`
 * renders them to inline SVG in Node, and the dashboard (ui/) bundles this module and renders the
 * same specs in the browser with vega-embed.
 */

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const CHART_CONFIG = { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } };
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One line per run over the steps of a per-step metric. */
export function curveSpec(curve: Pick<CurveRow, 'name' | 'direction' | 'points'>, runs: readonly Pick<ComparedRun, 'shortId'>[]): TopLevelSpec {
  const values = curve.points.flatMap((pts, i) => pts.map((p) => ({ run: runs[i].shortId, step: p.step, value: p.value })));
  return {
    $schema: SCHEMA,
    title: { text: curve.name, subtitle: curve.direction === 'lower' ? 'lower is better' : 'higher is better' },
    width: 420,
    height: 240,
    config: CHART_CONFIG,
    data: { values },
    mark: { type: 'line', point: values.length <= 200, strokeWidth: 2 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: curve.name, scale: { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.shortId) },
    },
  };
}

/** A heatmap of actual × predicted counts with the count in each cell. */
export function confusionSpec(m: ConfusionMatrix, title: string): TopLevelSpec {
  const labels = m.labels;
  const values = m.matrix.flatMap((row, a) => row.map((count, p) => ({ actual: labels[a], predicted: labels[p], count })));
  const max = Math.max(1, ...values.map((v) => v.count));
  const side = Math.min(360, Math.max(160, labels.length * 48));
  return {
    $schema: SCHEMA,
    title,
    width: side,
    height: side,
    config: CHART_CONFIG,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: labels, title: 'predicted', axis: { labelAngle: -35 } },
      y: { field: 'actual', type: 'ordinal', sort: labels, title: 'actual' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, title: 'count' } } },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** A point per run: one param (x) against one metric (y); categorical params get an ordinal axis. */
export function scatterSpec(points: readonly { run: string; x: unknown; y: number }[], xName: string, yName: string): TopLevelSpec {
  const numeric = points.every((p) => typeof p.x === 'number');
  const values = points.map((p) => ({ run: p.run, x: numeric ? p.x : String(p.x), y: p.y }));
  const positive = numeric && points.length > 0 && points.every((p) => (p.x as number) > 0);
  const spread = positive ? Math.max(...points.map((p) => p.x as number)) / Math.min(...points.map((p) => p.x as number)) : 1;
  return {
    $schema: SCHEMA,
    title: { text: `${yName} by ${xName}` },
    width: 420,
    height: 260,
    config: CHART_CONFIG,
    data: { values },
    mark: { type: 'point', filled: true, size: 70, tooltip: true },
    encoding: {
      x: numeric
        ? { field: 'x', type: 'quantitative', title: xName, scale: spread >= 50 ? { type: 'log' } : { zero: false } }
        : { field: 'x', type: 'ordinal', title: xName },
      y: { field: 'y', type: 'quantitative', title: yName, scale: { zero: false } },
      tooltip: [{ field: 'run' }, { field: 'x', title: xName }, { field: 'y', title: yName }],
    },
  };
}

/**
 * Parallel coordinates: one polyline per run across the given dimensions (params and metrics),
 * each axis scaled to its own min–max; the line's color is the last dimension (usually the metric).
 */
export function parallelSpec(rows: readonly { run: string; values: Record<string, number | null> }[], dimensions: readonly string[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    dimensions.flatMap((d) => (r.values[d] === null || r.values[d] === undefined ? [] : [{ run: r.run, dimension: d, value: r.values[d] as number }])),
  );
  const colorBy = dimensions[dimensions.length - 1] ?? '';
  const colorOf = new Map(rows.map((r) => [r.run, r.values[colorBy] ?? null]));
  const ranges = new Map(dimensions.map((d) => {
    const vs = values.filter((v) => v.dimension === d).map((v) => v.value);
    return [d, { min: Math.min(...vs), max: Math.max(...vs) }];
  }));
  const scaled = values.map((v) => {
    const r = ranges.get(v.dimension)!;
    return { ...v, scaled: r.max === r.min ? 0.5 : (v.value - r.min) / (r.max - r.min), color: colorOf.get(v.run) };
  });
  return {
    $schema: SCHEMA,
    title: { text: 'sweep: parallel coordinates', subtitle: `each axis from its min (bottom) to its max (top); color: ${colorBy}` },
    width: Math.max(320, dimensions.length * 130),
    height: 260,
    config: CHART_CONFIG,
    data: { values: scaled },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2, opacity: 0.8 },
        encoding: {
          x: { field: 'dimension', type: 'nominal', sort: [...dimensions], title: null, axis: { labelAngle: 0, domain: false } },
          y: { field: 'scaled', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
          detail: { field: 'run', type: 'nominal' },
          color: { field: 'color', type: 'quantitative', title: colorBy, scale: { scheme: 'viridis' } },
          tooltip: [{ field: 'run' }, { field: 'dimension' }, { field: 'value' }],
        },
      },
      {
        mark: { type: 'rule', color: '#999' },
        encoding: { x: { field: 'dimension', type: 'nominal', sort: [...dimensions] } },
      },
    ],
  };
}
