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
  if (type === 'categorical') return idLikeReasonOf(name, { type, present: present.length, distinct: new Set(present.map((v) => categoryOf(v, fmt))).size });
  const nums = present.map((v) => parseNumber(v, fmt)!);
  return idLikeReasonOf(name, {
    type,
    present: nums.length,
    distinct: new Set(nums).size,
    integers: nums.every(Number.isInteger),
    counting: () => nums.every((x, i) => i === 0 || x === nums[i - 1]! + 1) || nums.every((x, i) => i === 0 || x === nums[i - 1]! - 1),
  });
}

/** What idLikeReason needs to know of a column (an engine computes these with aggregates). */
export interface IdFacts {
  type: 'numeric' | 'categorical';
  /** Non-missing cells. */
  present: number;
  /** Distinct categories, or distinct numbers. */
  distinct: number;
  /** numeric: every value is an integer. */
  integers?: boolean;
  /** numeric: the present values count up or down by one in file order (read only when they are distinct integers). */
  counting?: boolean | (() => boolean);
}

/** idLikeReason from the facts of a column. */
export function idLikeReasonOf(name: string, f: IdFacts): string | undefined {
  if (f.present < MIN_ROWS) return undefined;
  if (f.type === 'categorical') {
    if (f.distinct === f.present) return `unique in every row (${f.distinct} values)`;
    if (f.distinct > HIGH_CARDINALITY && f.distinct > f.present / 2) return `${f.distinct} distinct values in ${f.present} rows`;
    return undefined;
  }
  if (!f.integers || f.distinct !== f.present) return undefined;
  if (typeof f.counting === 'function' ? f.counting() : f.counting) return 'consecutive integers in file order, a row number';
  if (ID_NAME.test(name)) return 'distinct integers in a column named like an id';
  return undefined;
}
