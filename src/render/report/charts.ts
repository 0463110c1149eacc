import type { TopLevelSpec } from 'vega-lite';
import type { ComparedRun, CurveRow } from '../../app/compare/build-comparison.js';
import type { ConfusionMatrix } from '../../app/report/confusion-matrix.js';
import { confusionSpec, curveSpec } from '../chart-specs.js';

/** A chart ready to place in the report: its title and its SVG markup. */
export interface Chart {
  title: string;
  kind: 'curve' | 'confusion';
  svg: string;
}

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

/** Every learning curve (one chart per metric) and confusion matrix, rendered to SVG. */
export async function renderCharts(curves: readonly CurveRow[], runs: readonly ComparedRun[], matrices: readonly { title: string; matrix: ConfusionMatrix }[]): Promise<Chart[]> {
  const curveCharts = curves.map(async (c): Promise<Chart> => ({ title: c.name, kind: 'curve', svg: await renderSvg(curveSpec(c, runs)) }));
  const cmCharts = matrices.map(async (m): Promise<Chart> => ({ title: m.title, kind: 'confusion', svg: await renderSvg(confusionSpec(m.matrix, m.title)) }));
  return Promise.all([...curveCharts, ...cmCharts]);
}
