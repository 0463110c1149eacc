// Helpers for benchmarks that time whole processes next to a reference measured in the same run.
import { spawnSync } from 'node:child_process';

/** Wall time in ms of one process; throws with its stderr when it fails. */
export function timeProcess(cmd, args, opts) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Median, min and max of samples. */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

/** `  327 ms  (272–386)` */
export const fmt = ({ median, min, max }) => `${median.toFixed(0).padStart(5)} ms  (${min.toFixed(0)}–${max.toFixed(0)})`;

/** Runs each named measurement once per round, in turn, `reps` times; returns samples by name. */
export function alternate(reps, measurements) {
  const samples = Object.fromEntries(Object.keys(measurements).map((k) => [k, []]));
  for (let i = 0; i < reps; i++) for (const [name, measure] of Object.entries(measurements)) samples[name].push(measure());
  return samples;
}
