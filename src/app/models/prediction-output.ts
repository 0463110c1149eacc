import type { Prediction, TensorPredictions } from '../../ml/predict.js';
import { ByteWriter } from '../../core/byte-writer.js';
import { csvField } from '../../core/csv-field.js';
import { sevenDigits } from '../../core/seven-digits.js';
import { inputCells, labelFields } from './csv-cells.js';
import { writeTensorRows } from './tensor-csv.js';

/** The formats `mlpipe predict` writes. */
export type PredictionFormat = 'csv' | 'jsonl' | 'parquet';

/** What a CSV column of the predictions holds: the row number, an input column (as read), a number or a label. */
export type OutputColumnKind = 'row' | 'input' | 'number' | 'label';

const num = (v: number): number => Number(v.toPrecision(7));

function unique(name: string, taken: ReadonlySet<string>): string {
  let out = name;
  while (taken.has(out)) out = `_${out}`;
  return out;
}

/**
 * Renders predictions a batch at a time (see {@link renderPredictions} for the format): `render`
 * gives the text of a batch (the CSV header before the first row, its columns told by the first
 * prediction), `end` whatever must still be written (the header of a CSV that got no rows). The
 * concatenated pieces equal renderPredictions over all the rows at once.
 */
export interface PredictionRenderer {
  /** `inputTexts[i]`, when given, is row `i`'s input cells already as CSV (its text in a comma-separated file without quotes), written as it is. */
  render(rows: unknown[][], predictions: Prediction[], sourceRows: number[], inputTexts?: ReadonlyArray<string | undefined>): string;
  /**
   * CSV of a one-target model: what `render` gives for `toPredictions(p)`, as UTF-8 bytes (a view
   * valid until the next call), written from the typed arrays without per-row objects or strings.
   * Undefined (nothing rendered) where the labels do not name each class column of `p`.
   */
  renderTensor(rows: unknown[][], p: TensorPredictions, sourceRows: number[], inputTexts?: ReadonlyArray<string | undefined>): Uint8Array | undefined;
  end(): string;
  /** CSV: the header's columns and what each holds, once the first batch (or `end`) was rendered. */
  header(): Array<{ name: string; kind: OutputColumnKind }>;
}

/** The renderer of `format`: Parquet is rendered as CSV, which the engine then converts (see parquet-sink.ts). */
export function predictionRenderer(format: PredictionFormat, columns: string[], labels: string[] | undefined, explained: string[] = []): PredictionRenderer {
  const taken = new Set(columns);
  const rowColumn = unique('row', taken);
  const predicted = unique('predicted', taken);
  if (format === 'jsonl') {
    const probabilities = unique('probabilities', taken);
    const explain = unique('explain', taken);
    return {
      render: (rows, predictions, sourceRows) => rows.map((row, i) => `${jsonLine(columns, row, predictions[i]!, sourceRows[i]!, rowColumn, predicted, probabilities, explain)}\n`).join(''),
      renderTensor: () => undefined,
      end: () => '',
      header: () => [],
    };
  }
  let csv: CsvLayout['row'] | undefined;
  let header = '';
  let kinds: Array<{ name: string; kind: OutputColumnKind }> = [];
  const start = (first: Prediction | OutputShape | undefined) => {
    const layout = first && 'outputs' in first && first.outputs ? multiTargetCsv(columns, first, rowColumn, taken) : singleTargetCsv(columns, first && shapeOf(first, labels), labels, rowColumn, predicted, taken, explained);
    header = `${layout.header.map(csvField).join(',')}\n`;
    kinds = layout.header.map((name, i) => ({ name, kind: i === 0 ? 'row' : i <= columns.length ? 'input' : layout.kinds[i - 1 - columns.length]! }));
    csv = layout.row;
  };
  const writer = new ByteWriter();
  const labelField = labelFields();
  return {
    header: () => kinds,
    renderTensor: (rows, p, sourceRows, inputTexts) => {
      const k = p.probabilities ? p.probabilities.length / p.n : 0;
      if (p.outputs || explained.length > 0 || (labels && k > 0 && labels.length !== k)) return undefined;
      if (rows.length === 0) return writer.take();
      if (!csv) {
        start({ regression: p.values !== undefined, probColumns: Array.from({ length: k }, (_, j) => labels?.[j] ?? String(j)) });
        writer.text(header);
      }
      const classFields = Array.from({ length: k }, (_, c) => labelField(labels?.[c] ?? String(c)));
      writeTensorRows(writer, columns, rows, p, sourceRows, inputTexts, classFields);
      return writer.take();
    },
    render: (rows, predictions, sourceRows, inputTexts) => {
      if (rows.length === 0) return '';
      let text = '';
      if (!csv) {
        start(predictions[0]);
        text = header;
      }
      const lines: string[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) lines[i] = csv!(rows[i]!, predictions[i]!, sourceRows[i]!, inputTexts?.[i]);
      return `${text}${lines.join('\n')}\n`;
    },
    end: () => {
      if (csv) return '';
      start(undefined);
      return header;
    },
  };
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
  const renderer = predictionRenderer(format, columns, labels);
  return renderer.render(rows, predictions, sourceRows) + renderer.end();
}

function jsonLine(columns: string[], row: unknown[], p: Prediction, sourceRow: number, rowColumn: string, predicted: string, probabilities: string, explain: string): string {
  const out: Record<string, unknown> = { [rowColumn]: sourceRow, ...Object.fromEntries(columns.map((c, j) => [c, row[j] ?? null])) };
  if (p.outputs) {
    const each = Object.entries(p.outputs);
    out[predicted] = Object.fromEntries(each.map(([t, o]) => [t, o.value ?? o.label]));
    out[probabilities] = Object.fromEntries(each.filter(([, o]) => o.probabilities).map(([t, o]) => [t, o.probabilities]));
  } else if (p.value !== undefined) out[predicted] = p.value;
  else {
    out[predicted] = p.label;
    out[probabilities] = p.probabilities;
  }
  if (p.explain) out[explain] = Object.fromEntries(Object.entries(p.explain).map(([f, v]) => [f, num(v)]));
  return JSON.stringify(out);
}

/** What a one-target model's CSV columns hold: a value, or a label and one probability per class. */
interface OutputShape {
  regression: boolean;
  probColumns: string[];
}

function shapeOf(first: Prediction | OutputShape, labels: string[] | undefined): OutputShape {
  if ('regression' in first) return first;
  return { regression: first.value !== undefined, probColumns: first.probabilities ? (labels ?? Object.keys(first.probabilities)) : [] };
}

interface CsvLayout {
  header: string[];
  /** What each prediction column (after the row number and the inputs) holds. */
  kinds: OutputColumnKind[];
  row(row: unknown[], p: Prediction, sourceRow: number, inputText?: string): string;
}

/** CSV of a one-target model: `predicted`, for a classifier one `p_<label>` per class (as the first prediction has them), then one `explain.<feature>` per explained feature. */
function singleTargetCsv(columns: string[], shape: OutputShape | undefined, labels: string[] | undefined, rowColumn: string, predicted: string, taken: ReadonlySet<string>, explained: string[]): CsvLayout {
  const probColumns = shape?.probColumns ?? [];
  const labelField = labelFields();
  return {
    header: [rowColumn, ...columns, predicted, ...probColumns.map((l) => unique(`p_${l}`, taken)), ...explained.map((f) => unique(`explain.${f}`, taken))],
    kinds: [(shape ? shape.regression : !labels) ? 'number' : 'label', ...probColumns.map(() => 'number' as const), ...explained.map(() => 'number' as const)],
    row: (row, p, sourceRow, inputText) => {
      let line = inputCells(columns, row, sourceRow, inputText);
      line += `,${p.value !== undefined ? sevenDigits(p.value) : labelField(p.label)}`;
      for (const l of probColumns) line += `,${sevenDigits(p.probabilities![l]!)}`;
      for (const f of explained) line += `,${sevenDigits(p.explain![f]!)}`;
      return line;
    },
  };
}

/** CSV of a multi-target model: per target `<t>_predicted` and, for a classifier, `<t>_p_<label>…`. */
function multiTargetCsv(columns: string[], first: Prediction, rowColumn: string, taken: ReadonlySet<string>): CsvLayout {
  const targets = Object.entries(first.outputs!).map(([t, o]) => ({ t, labels: o.probabilities ? Object.keys(o.probabilities) : [] }));
  return {
    header: [rowColumn, ...columns, ...targets.flatMap(({ t, labels }) => [unique(`${t}_predicted`, taken), ...labels.map((l) => unique(`${t}_p_${l}`, taken))])],
    kinds: targets.flatMap(({ t, labels }) => [first.outputs![t]!.value !== undefined ? ('number' as const) : ('label' as const), ...labels.map(() => 'number' as const)]),
    row: (row, p, sourceRow, inputText) => {
      const outputs = p.outputs!;
      const cells = [inputCells(columns, row, sourceRow, inputText)];
      for (const { t, labels } of targets) {
        const o = outputs[t]!;
        cells.push(o.value !== undefined ? sevenDigits(o.value) : csvField(o.label), ...labels.map((l) => sevenDigits(o.probabilities![l]!)));
      }
      return cells.join(',');
    },
  };
}
