import { UserError } from '../../errors.js';
import { seededRandom } from '../../seeded-random.js';

/** A `--sweep KEY=uniform(a,b)` axis: values are drawn, not listed (random search needs `--trials`). */
export type Distribution = { kind: 'uniform' | 'loguniform' | 'randint'; low: number; high: number };

const DIST_RE = /^(uniform|loguniform|randint)\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)$/;

/**
 * `uniform(0,1)`, `loguniform(1e-4,1e-1)` (uniform in log space) or `randint(16,128)` (both ends
 * included); undefined for any other text. Bad bounds are a UserError naming the axis.
 */
export function parseDistribution(text: string, axis: string): Distribution | undefined {
  const m = DIST_RE.exec(text.trim());
  if (!m) return undefined;
  const kind = m[1] as Distribution['kind'];
  const [low, high] = [Number(m[2]), Number(m[3])];
  const bad = (why: string) => new UserError(`--sweep ${axis}=${text}: ${why}`, { hint: 'e.g. --sweep params.lr=loguniform(1e-4,1e-1) --trials 20' });
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw bad('the bounds must be numbers');
  if (!(low < high)) throw bad(`the low bound must be below the high one, got ${low} and ${high}`);
  if (kind === 'loguniform' && low <= 0) throw bad('a loguniform range needs positive bounds');
  if (kind === 'randint' && (!Number.isInteger(low) || !Number.isInteger(high))) throw bad('randint bounds must be integers');
  return { kind, low, high };
}

/** What random search needs of a sweep axis (core/run/sweep-grid's SweepAxis). */
interface DrawnAxis {
  key: string;
  values: readonly string[];
  distribution?: Distribution;
}

/**
 * `trials` random points: each draws every distribution axis and picks one listed value of every
 * other axis, from a generator seeded by `seed`, so the same command draws the same trials (and
 * re-running it restores the finished ones from the cache). Repeated draws are dropped.
 */
export function randomTrials(axes: readonly DrawnAxis[], trials: number, seed: number): string[][] {
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const points: string[][] = [];
  for (let attempt = 0; points.length < trials && attempt < trials * 20; attempt++) {
    const point = axes.map((a) => `${a.key}=${a.distribution ? draw(a.distribution, random()) : a.values[Math.floor(random() * a.values.length)]}`);
    const id = point.join('\n');
    if (seen.has(id)) continue;
    seen.add(id);
    points.push(point);
  }
  return points;
}

function draw(d: Distribution, u: number): string {
  if (d.kind === 'randint') return String(d.low + Math.floor(u * (d.high - d.low + 1)));
  const v = d.kind === 'loguniform' ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low))) : d.low + u * (d.high - d.low);
  return String(Number(v.toPrecision(6)));
}
