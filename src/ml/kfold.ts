import type { CvMeta } from './dataset.js';
import { DataError } from './errors.js';
import { seededRandom, shuffleInPlace, splitRows, type SplitIndices } from './split.js';

/** How the rows that are not held out for testing were cut into folds. */
export type FoldStrategy = 'kfold' | 'stratified' | 'group' | 'column';

/** Cross-validation settings of a preprocess split (`split: { kfold, group, column }`). */
export interface CvSplitOptions {
  /** The number of folds; with `column`, optional (then the number of distinct fold values). */
  k?: number;
  test: number;
  seed: number;
  shuffle: boolean;
  /** One class per row: each fold keeps the class proportions (scikit-learn StratifiedKFold). */
  strata?: ArrayLike<number>;
  /** One group key per row: no group is in two folds, nor in a fold and the test split (GroupKFold). */
  groups?: readonly string[];
  /** One fold value per row (PredefinedSplit): each distinct value is a fold, `test` rows are the test split. */
  predefined?: readonly string[];
}

/** The split of a cross-validated dataset: no validation rows, and the fold (0-based) of each train row, aligned with `parts.train`. */
export interface CvSplit {
  parts: SplitIndices;
  folds: Int32Array;
  k: number;
  strategy: FoldStrategy;
  /** `column` folds: the column value of each fold, in fold order. */
  names?: string[];
}

/** The fold value that sends a row to the test split under `split.column`. */
export const TEST_FOLD = 'test';

/**
 * Splits `n` rows into a test split and k folds of the rest, seeded. Rows are cut into folds by
 * one of: the values of a column (`predefined`), whole groups (`groups`, balanced by size: the
 * largest groups first, each to the smallest fold), class-stratified round robin (`strata`), or
 * plain round robin over the shuffled rows.
 */
export function splitFolds(n: number, o: CvSplitOptions): CvSplit {
  if (o.predefined) return predefinedFolds(o.predefined, o.k);
  if (o.k === undefined || o.k < 2) throw new DataError(`split.kfold must be at least 2 (got ${String(o.k)})`, { hint: 'set split.kfold: 5' });
  const random = seededRandom(o.seed ^ 0x2545f491);
  const parts = o.groups ? groupTestSplit(n, o.groups, o.test, o.seed, o.shuffle) : splitRows(n, { test: o.test, validation: 0, seed: o.seed, shuffle: o.shuffle, strata: o.strata });
  const train = parts.train;
  const folds = new Int32Array(train.length);
  if (o.groups) {
    const groups = o.groups;
    assignGroups(train.map((i) => groups[i]!), o.k, random, o.shuffle, folds);
    return { parts, folds, k: o.k, strategy: 'group' };
  }
  if (train.length < o.k) throw new DataError(`split.kfold ${o.k} needs at least ${o.k} training rows, there are ${train.length}`, { hint: 'lower split.kfold or split.test' });
  const byClass = new Map<number, number[]>();
  train.forEach((row, pos) => {
    const key = o.strata ? o.strata[row]! : 0;
    let list = byClass.get(key);
    if (!list) byClass.set(key, (list = []));
    list.push(pos);
  });
  let next = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const positions = byClass.get(key)!;
    if (o.shuffle) shuffleInPlace(positions, random);
    for (const pos of positions) folds[pos] = next++ % o.k;
  }
  return { parts, folds, k: o.k, strategy: o.strata ? 'stratified' : 'kfold' };
}

/** Test rows are whole groups, drawn in seeded order until they reach `test` of the rows. */
function groupTestSplit(n: number, groups: readonly string[], test: number, seed: number, shuffle: boolean): SplitIndices {
  const members = rowsByGroup(groups);
  const keys = [...members.keys()].sort();
  if (shuffle) shuffleInPlace(keys, seededRandom(seed));
  const want = Math.round(n * test);
  const testRows: number[] = [];
  const testGroups = new Set<string>();
  for (const key of keys) {
    if (testRows.length >= want || testGroups.size === keys.length - 1) break;
    testRows.push(...members.get(key)!);
    testGroups.add(key);
  }
  const train = keys.filter((k) => !testGroups.has(k)).flatMap((k) => members.get(k)!);
  const order = (rows: number[]) => (shuffle ? shuffleInPlace(rows, seededRandom(seed + 1)) : rows.sort((a, b) => a - b));
  return { train: order(train), validation: [], test: order(testRows) };
}

function assignGroups(keys: string[], k: number, random: () => number, shuffle: boolean, folds: Int32Array): void {
  const members = rowsByGroup(keys);
  if (members.size < k) throw new DataError(`split.kfold ${k} with split.group needs at least ${k} groups in the training rows, there are ${members.size}`, { hint: 'lower split.kfold, lower split.test, or group by a finer column' });
  const names = [...members.keys()].sort();
  if (shuffle) shuffleInPlace(names, random);
  const bySize = names.map((name, order) => ({ name, order, size: members.get(name)!.length })).sort((a, b) => b.size - a.size || a.order - b.order);
  const sizes = new Array<number>(k).fill(0);
  for (const g of bySize) {
    let smallest = 0;
    for (let f = 1; f < k; f++) if (sizes[f]! < sizes[smallest]!) smallest = f;
    sizes[smallest]! += g.size;
    for (const pos of members.get(g.name)!) folds[pos] = smallest;
  }
}

function rowsByGroup(keys: readonly string[]): Map<string, number[]> {
  const members = new Map<string, number[]>();
  keys.forEach((key, i) => {
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    list.push(i);
  });
  return members;
}

function predefinedFolds(values: readonly string[], k: number | undefined): CvSplit {
  const names = [...new Set(values.filter((v) => v !== TEST_FOLD))];
  const numeric = names.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  names.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (names.length < 2) throw new DataError(`split.column has ${names.length} fold value(s) besides "${TEST_FOLD}" (${names.join(', ') || 'none'}); cross-validation needs at least 2`, { hint: 'give the rows at least two fold values (e.g. 0..4)' });
  if (k !== undefined && k !== names.length) throw new DataError(`split.kfold is ${k} but split.column holds ${names.length} fold values (${names.join(', ')})`, { hint: 'remove split.kfold (the column decides) or make them agree' });
  const index = new Map(names.map((name, i) => [name, i]));
  const parts: SplitIndices = { train: [], validation: [], test: [] };
  values.forEach((v, i) => (v === TEST_FOLD ? parts.test : parts.train).push(i));
  return { parts, folds: Int32Array.from(parts.train, (i) => index.get(values[i]!)!), k: names.length, strategy: 'column', names };
}

/** Rows per fold. */
export function foldSizes(folds: ArrayLike<number>, k: number): number[] {
  const sizes = new Array<number>(k).fill(0);
  for (let i = 0; i < folds.length; i++) sizes[folds[i]!]!++;
  return sizes;
}

/** `folds 5 (stratified): 24, 24, 24, 24, 24 rows` — `(group by patient)`, `(column fold: 0, 1, 2)`. */
export function describeFolds(cv: CvMeta): string {
  const how = cv.strategy === 'group' ? `group by ${cv.column}` : cv.strategy === 'column' ? `column ${cv.column}: ${cv.names!.join(', ')}` : cv.strategy;
  return `folds ${cv.k} (${how}): ${cv.sizes.join(', ')} rows; the validation split is not used`;
}
