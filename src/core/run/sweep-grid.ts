import { UserError } from '../../errors.js';
import { parseDistribution, randomTrials, type Distribution } from './sweep-sample.js';

/**
 * One `--sweep KEY=V1,V2,…` axis; values stay text so the spec loader types them like `--set`.
 * A `KEY=loguniform(a,b)` axis has a distribution to draw from instead (random search).
 */
export interface SweepAxis {
  key: string;
  values: string[];
  distribution?: Distribution;
}

const RANGE_RE = /^range\(\s*([^,]+?)\s*,\s*([^,]+?)\s*(?:,\s*(lin|log)\s*)?(?:,\s*(\d+)\s*)?\)$/;

/** `range(0.001,0.1,log,4)` → 0.001, 0.01, 0.1 spaced evenly (log: geometrically); `range(1,5)` → 1…5 step 1. */
export function expandRange(text: string): string[] | undefined {
  const m = RANGE_RE.exec(text.trim());
  if (!m) return undefined;
  const [start, stop] = [Number(m[1]), Number(m[2])];
  const scale = m[3] ?? 'lin';
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new UserError(`--sweep ${text}: range bounds must be numbers`);
  if (scale === 'log' && (start <= 0 || stop <= 0)) throw new UserError(`--sweep ${text}: a log range needs positive bounds`);
  const count = m[4] !== undefined ? Number(m[4]) : scale === 'lin' && Number.isInteger(start) && Number.isInteger(stop) ? Math.abs(stop - start) + 1 : 5;
  if (count < 1 || count > 1000) throw new UserError(`--sweep ${text}: expected a count between 1 and 1000, got ${count}`);
  if (count === 1) return [String(start)];
  return Array.from({ length: count }, (_, i) => {
    const t = i / (count - 1);
    const v = scale === 'log' ? Math.exp(Math.log(start) + t * (Math.log(stop) - Math.log(start))) : start + t * (stop - start);
    return String(Number(v.toPrecision(12)));
  });
}

export function parseSweep(text: string): SweepAxis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`expected --sweep KEY=V1,V2,…, got "${text}"`, { hint: 'e.g. --sweep params.lr=0.001,0.01,0.1, --sweep params.lr=range(0.001,0.1,log,3), or --sweep params.lr=loguniform(1e-4,1e-1) --trials 20' });
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const distribution = parseDistribution(raw, key);
  if (distribution) return { key, values: [], distribution };
  const values = splitTopLevel(raw).flatMap((v) => expandRange(v) ?? [v.trim()]);
  if (values.length === 0 || values.some((v) => v === '')) throw new UserError(`--sweep ${text}: empty value in the list`);
  return { key, values: [...new Set(values)] };
}

/** The cartesian product of the axes, each point as `--set` items, first axis varying slowest. */
export function sweepGrid(axes: SweepAxis[]): string[][] {
  checkDistinctKeys(axes);
  return axes.reduce<string[][]>((points, axis) => points.flatMap((p) => axis.values.map((v) => [...p, `${axis.key}=${v}`])), [[]]);
}

/**
 * The points of a sweep: the grid of the listed values, or with `trials` a random search of that
 * many points (distribution axes need it), seeded by `seed` (default 0).
 */
export function sweepPoints(axes: SweepAxis[], opts: { trials?: number; seed?: number } = {}): string[][] {
  const drawn = axes.find((a) => a.distribution);
  if (opts.trials === undefined) {
    if (drawn) throw new UserError(`--sweep ${drawn.key} is a distribution (${drawn.distribution!.kind}): say how many trials to draw with --trials N`, { hint: 'e.g. --trials 20 --seed 1; list values (a,b,c) or range(…) for a grid' });
    return sweepGrid(axes);
  }
  checkDistinctKeys(axes);
  return randomTrials(axes, opts.trials, opts.seed ?? 0);
}

function checkDistinctKeys(axes: SweepAxis[]): void {
  const keys = axes.map((a) => a.key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) throw new UserError(`--sweep ${dup} is given twice; list every value in one --sweep`);
}

/** Splits on commas outside parentheses, so `1,2,range(3,4)` is three items. */
function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth = Math.max(0, depth - 1);
    else if (text[i] === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items;
}
