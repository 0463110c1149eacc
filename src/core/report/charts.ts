import type { TopLevelSpec } from 'vega-lite';
import type { ComparedRun, CurveRow } from '../compare/build-comparison.js';
import type { ConfusionMatrix } from './confusion-matrix.js';

/** A chart ready to place in the report: its title and its SVG markup. */
export interface Chart {
  title: string;
  kind: 'curve' | 'confusion';
  svg: string;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const CONFIG = { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } };

/** Compiles a Vega-Lite spec and renders it to SVG in this process (vega's headless view; no browser, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One line per run over the steps of a per-step metric. */
export function curveSpec(curve: CurveRow, runs: readonly ComparedRun[]): TopLevelSpec {
  const values = curve.points.flatMap((pts, i) => pts.map((p) => ({ run: runs[i].shortId, step: p.step, value: p.value })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: curve.name, subtitle: curve.direction === 'lower' ? 'lower is better' : 'higher is better' },
    width: 420,
    height: 240,
    config: CONFIG,
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
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: side,
    height: side,
    config: CONFIG,
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

/** Every learning curve (one chart per metric) and confusion matrix, rendered to SVG. */
export async function renderCharts(curves: readonly CurveRow[], runs: readonly ComparedRun[], matrices: readonly { title: string; matrix: ConfusionMatrix }[]): Promise<Chart[]> {
  const curveCharts = curves.map(async (c): Promise<Chart> => ({ title: c.name, kind: 'curve', svg: await renderSvg(curveSpec(c, runs)) }));
  const cmCharts = matrices.map(async (m): Promise<Chart> => ({ title: m.title, kind: 'confusion', svg: await renderSvg(confusionSpec(m.matrix, m.title)) }));
  return Promise.all([...curveCharts, ...cmCharts]);
}
