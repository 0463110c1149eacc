import { describe, expect, it } from 'vitest';
import { droppedShareWarning } from '../../src/stages/preprocess.js';

describe('the warning when preprocess drops many rows for missing values', () => {
  it('names the share and the option that keeps the rows, from 5 % of the file on', () => {
    expect(droppedShareWarning(178, 600, 'drop')).toBe(
      '178 of 600 rows (29.7 %) were dropped for a missing value; `missing: mean` (or median, mode) fills numbers from the train split and categories with their most frequent value instead',
    );
    expect(droppedShareWarning(30, 600, 'drop')).toContain('30 of 600 rows (5.0 %)');
  });

  it('stays quiet below 5 %, for an empty file, and when a fill strategy is set', () => {
    expect(droppedShareWarning(29, 600, 'drop')).toBeUndefined();
    expect(droppedShareWarning(0, 0, 'drop')).toBeUndefined();
    expect(droppedShareWarning(178, 600, 'mean')).toBeUndefined();
    expect(droppedShareWarning(178, 600, { fill: 'constant', value: 0 })).toBeUndefined();
  });
});
