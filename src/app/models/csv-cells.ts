import { csvField } from '../../core/csv-field.js';

/** `row`'s input cells as CSV fields after `sourceRow` (`inputText` when given: they are already). */
export function inputCells(columns: string[], row: unknown[], sourceRow: number, inputText: string | undefined): string {
  if (inputText !== undefined) return columns.length > 0 ? `${sourceRow},${inputText}` : String(sourceRow);
  let line = String(sourceRow);
  for (let j = 0; j < columns.length; j++) line += `,${csvField(row[j])}`;
  return line;
}

/** csvField of labels, each escaped once. */
export function labelFields(): (label: string | undefined) => string {
  const known = new Map<string | undefined, string>();
  return (label) => {
    let field = known.get(label);
    if (field === undefined) known.set(label, (field = csvField(label)));
    return field;
  };
}
