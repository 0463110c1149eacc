import type { Random } from '../../seeded-random.js';
import { DataError } from '../errors.js';
import { classCounts, takeAndAdd, type AugmentRows } from './rows.js';

/** Resampling of imbalanced classes on the train split. */
export interface ResampleOptions {
  method: 'oversample' | 'undersample' | 'smote';
  /** After resampling, each class holds at least (over/smote) or at most (under) this share of the majority (minority) class. */
  ratio: number;
  /** smote: neighbours each synthetic row may be drawn towards. */
  kNeighbors: number;
  /** smote: which columns are continuous (interpolated); the others (one-hot, ordinal codes) are copied from the base row. */
  continuous: boolean[];
}

/**
 * Random over-sampling (duplicates drawn with replacement), random under-sampling (rows dropped
 * at random) or SMOTE (Chawla et al. 2002: a new row on the segment between a minority row and one
 * of its k nearest same-class neighbours) until each class reaches its target count. Row order:
 * the kept rows in their order, then the new ones.
 */
export function resample(rows: AugmentRows, k: number, o: ResampleOptions, random: Random): AugmentRows {
  const counts = classCounts(rows.y, k);
  const byClass = counts.map(() => [] as number[]);
  rows.y.forEach((c, i) => byClass[c]!.push(i));
  if (o.method === 'undersample') {
    const floor = Math.min(...counts.filter((c) => c > 0));
    const target = Math.max(floor, Math.round(floor / o.ratio));
    const keep: number[] = [];
    for (const members of byClass) keep.push(...(members.length <= target ? members : sample(members, target, random)));
    return takeAndAdd(rows, keep.sort((a, b) => a - b));
  }
  const target = Math.round(Math.max(...counts) * o.ratio);
  const origins: number[] = [];
  const partners: number[] = [];
  byClass.forEach((members, c) => {
    const need = target - members.length;
    if (need <= 0 || members.length === 0) return;
    if (o.method === 'smote' && members.length < 2) throw new DataError(`smote needs at least 2 rows of a class to interpolate between; class ${c} has ${members.length} in the train split`, { hint: 'use resample: { method: oversample } for it' });
    const neighbours = o.method === 'smote' ? nearest(rows, members, Math.min(o.kNeighbors, members.length - 1), o.continuous) : undefined;
    for (let j = 0; j < need; j++) {
      const pick = Math.floor(random() * members.length);
      origins.push(members[pick]!);
      if (neighbours) partners.push(neighbours[pick]![Math.floor(random() * neighbours[pick]!.length)]!);
    }
  });
  const w = rows.width;
  const x = rows.x instanceof Int32Array ? new Int32Array(origins.length * w) : new Float32Array(origins.length * w);
  origins.forEach((r, j) => {
    const base = rows.x.subarray(r * w, (r + 1) * w);
    if (o.method !== 'smote') return x.set(base, j * w);
    const other = rows.x.subarray(partners[j]! * w, (partners[j]! + 1) * w);
    const gap = random();
    for (let c = 0; c < w; c++) x[j * w + c] = o.continuous[c] ? base[c]! + gap * (other[c]! - base[c]!) : base[c]!;
  });
  return takeAndAdd(rows, Int32Array.from({ length: rows.n }, (_, i) => i), { x, origins });
}

function sample(members: number[], size: number, random: Random): number[] {
  const pool = [...members];
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, size);
}

/** For each member, the rows (of `members`) of its `k` nearest others by Euclidean distance over the continuous columns. */
function nearest(rows: AugmentRows, members: number[], k: number, continuous: boolean[]): number[][] {
  const w = rows.width;
  const cols = continuous.flatMap((c, i) => (c ? [i] : []));
  return members.map((a) => {
    const dist = members.filter((b) => b !== a).map((b) => {
      let d = 0;
      for (const c of cols) d += (rows.x[a * w + c]! - rows.x[b * w + c]!) ** 2;
      return { b, d };
    });
    dist.sort((p, q) => p.d - q.d || p.b - q.b);
    return dist.slice(0, k).map((p) => p.b);
  });
}
