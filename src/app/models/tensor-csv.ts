import type { ByteWriter } from '../../core/byte-writer.js';
import { writeSevenDigits } from '../../core/seven-digits.js';
import type { TensorPredictions } from '../../ml/predict.js';
import { inputCells } from './csv-cells.js';

/**
 * The CSV lines of a one-target model's predictions `p` for `rows` (see predictionRenderer): the
 * row number, the input cells (`inputTexts[i]` as it is where given), then the value, or the label
 * (`classFields[c]`, already a CSV field) and each class's probability, numbers to 7 significant digits.
 */
export function writeTensorRows(
  w: ByteWriter,
  columns: string[],
  rows: unknown[][],
  p: TensorPredictions,
  sourceRows: number[],
  inputTexts: ReadonlyArray<string | undefined> | undefined,
  classFields: string[],
): void {
  const values = p.values;
  const probs = p.probabilities;
  const classes = p.classes;
  const k = classFields.length;
  for (let i = 0; i < rows.length; i++) {
    const text = inputTexts?.[i];
    if (text === undefined || columns.length === 0) w.text(inputCells(columns, rows[i]!, sourceRows[i]!, text));
    else {
      w.uint(sourceRows[i]!);
      w.byte(0x2c);
      w.text(text);
    }
    w.byte(0x2c);
    if (values) writeSevenDigits(w, values[i]!);
    else {
      w.text(classFields[classes![i]!]!);
      for (let j = 0; j < k; j++) {
        w.byte(0x2c);
        writeSevenDigits(w, probs![i * k + j]!);
      }
    }
    w.byte(0x0a);
  }
}
