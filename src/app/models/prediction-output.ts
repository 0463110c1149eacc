import type { Prediction } from '../../ml/predict.js';
import { csvField } from '../../core/csv-field.js';

/** The formats `mlpipe predict` writes. */
export type PredictionFormat = 'csv' | 'jsonl';

const num = (v: number): number => Number(v.toPrecision(7));

function unique(name: string, taken: ReadonlySet<string>): string {
  let out = name;
  while (taken.has(out)) out = `_${out}`;
  return out;
}

/**
 * The input table with the predictions appended, each row led by `row`, its 1-based data row in the
 * input file (so skipped rows and errors can be joined back). CSV: `predicted` and one `p_<label>` column per
 * class (as in the evaluate stage's predictions.csv), numbers to 7 significant digits. JSONL: each
 * input object with `predicted` and, for classifiers, `probabilities`. A prediction column whose
 * name an input column already uses gets a leading `_`.
 */
export function renderPredictions(
  format: PredictionFormat,
  columns: string[],
  rows: unknown[][],
  predictions: Prediction[],
  labels: string[] | undefined,
  sourceRows: number[] = rows.map((_, i) => i + 1),
): string {
  const taken = new Set(columns);
  const rowColumn = unique('row', taken);
  const predicted = unique('predicted', taken);
  if (format === 'jsonl') {
    const probabilities = unique('probabilities', taken);
    const lines = rows.map((row, i) => {
      const p = predictions[i]!;
      const out: Record<string, unknown> = { [rowColumn]: sourceRows[i], ...Object.fromEntries(columns.map((c, j) => [c, row[j] ?? null])) };
      if (p.outputs) {
        const each = Object.entries(p.outputs);
        out[predicted] = Object.fromEntries(each.map(([t, o]) => [t, o.value ?? o.label]));
        out[probabilities] = Object.fromEntries(each.filter(([, o]) => o.probabilities).map(([t, o]) => [t, o.probabilities]));
      } else if (p.value !== undefined) out[predicted] = p.value;
      else {
        out[predicted] = p.label;
        out[probabilities] = p.probabilities;
      }
      return JSON.stringify(out);
    });
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
  if (predictions[0]?.outputs) return multiTargetCsv(columns, rows, predictions, sourceRows, rowColumn, taken);
  const probColumns = predictions[0]?.probabilities ? (labels ?? Object.keys(predictions[0].probabilities)) : [];
  const header = [rowColumn, ...columns, predicted, ...probColumns.map((l) => unique(`p_${l}`, taken))];
  const lines = [header.map(csvField).join(',')];
  rows.forEach((row, i) => {
    const p = predictions[i]!;
    const cells = [String(sourceRows[i]), ...columns.map((_, j) => csvField(row[j])), p.value !== undefined ? String(num(p.value)) : csvField(p.label)];
    for (const l of probColumns) cells.push(String(num(p.probabilities![l]!)));
    lines.push(cells.join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** CSV of a multi-target model's predictions: per target `<t>_predicted` and, for a classifier, `<t>_p_<label>…`. */
function multiTargetCsv(columns: string[], rows: unknown[][], predictions: Prediction[], sourceRows: number[], rowColumn: string, taken: ReadonlySet<string>): string {
  const targets = Object.entries(predictions[0]!.outputs!).map(([t, o]) => ({ t, labels: o.probabilities ? Object.keys(o.probabilities) : [] }));
  const header = [rowColumn, ...columns, ...targets.flatMap(({ t, labels }) => [unique(`${t}_predicted`, taken), ...labels.map((l) => unique(`${t}_p_${l}`, taken))])];
  const lines = [header.map(csvField).join(',')];
  rows.forEach((row, i) => {
    const outputs = predictions[i]!.outputs!;
    const cells = [String(sourceRows[i]), ...columns.map((_, j) => csvField(row[j]))];
    for (const { t, labels } of targets) {
      const o = outputs[t]!;
      cells.push(o.value !== undefined ? String(num(o.value)) : csvField(o.label), ...labels.map((l) => String(num(o.probabilities![l]!))));
    }
    lines.push(cells.join(','));
  });
  return `${lines.join('\n')}\n`;
}
