import { categoryOf, isMissing, parseNumber, type CellFormat } from './columns.js';

const MIN_ROWS = 20;
const HIGH_CARDINALITY = 50;
const ID_NAME = /(^|[_\s.-])(id|uuid|guid|key)$/i;

/**
 * Why a column looks like a row identifier rather than a feature, or undefined: a categorical
 * column unique per row or with more than 50 categories covering over half the rows; an integer
 * column unique per row that counts rows (consecutive in file order) or is named like an id (`id`, `customer_id`).
 * Such a column lets a model memorize rows: scores then depend on the id, not the data.
 */
export function idLikeReason(name: string, values: readonly unknown[], type: 'numeric' | 'categorical', fmt: CellFormat): string | undefined {
  const present = values.filter((v) => !isMissing(v, fmt));
  if (present.length < MIN_ROWS) return undefined;
  if (type === 'categorical') {
    const distinct = new Set(present.map((v) => categoryOf(v, fmt))).size;
    if (distinct === present.length) return `unique in every row (${distinct} values)`;
    if (distinct > HIGH_CARDINALITY && distinct > present.length / 2) return `${distinct} distinct values in ${present.length} rows`;
    return undefined;
  }
  const nums = present.map((v) => parseNumber(v, fmt)!);
  if (!nums.every(Number.isInteger) || new Set(nums).size !== nums.length) return undefined;
  const counting = nums.every((x, i) => i === 0 || x === nums[i - 1]! + 1) || nums.every((x, i) => i === 0 || x === nums[i - 1]! - 1);
  if (counting) return 'consecutive integers in file order, a row number';
  if (ID_NAME.test(name)) return 'distinct integers in a column named like an id';
  return undefined;
}
