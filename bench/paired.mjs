import { spawnSync } from 'node:child_process';
// Paired measurements for the benchmarks: each rep times every variant once, the order rotating
// from rep to rep (A B, B A, …), so a machine's load drifts over all of them alike; reported as the
// median with min–max, and the ratio of medians to the reference measured in the same run.
import { performance } from 'node:perf_hooks';

/** Times `fn` once, in ms. */
export async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * Runs `reps` rounds of `variants` ({ label: async (rep) => void }), rotating their order each
 * round; returns { label: [ms, …] }. `between` (optional) runs untimed after each measurement.
 */
export async function paired(reps, variants, between = async () => {}) {
  const labels = Object.keys(variants);
  const out = Object.fromEntries(labels.map((l) => [l, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < labels.length; i++) {
      const label = labels[(i + rep) % labels.length];
      out[label].push(await time(() => variants[label](rep)));
      await between(label, rep);
    }
  }
  return out;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `123 ms (110–140)`. */
export const spread = (ms) => `${median(ms).toFixed(0)} ms (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)})`;

/** `1.8× REF` of two series' medians. */
export const ratio = (ms, ref, name) => `${(median(ms) / median(ref)).toFixed(2)}× ${name}`;

// Synchronous helpers for benchmarks that time whole processes (one at a time, nothing else in flight).
/** Wall time in ms of one process; throws with its stderr when it fails. */
export function timeProcess(cmd, args, opts) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * Wall time (ms), CPU time (ms, user+sys) and peak resident memory (MiB, GNU time's "Maximum resident
 * set size") of one process, with its output; throws with its output when it fails.
 */
export function timeProcessRss(cmd, args, opts = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  const field = (name) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr)?.[1] ?? NaN);
  const cpu = (field('User time \\(seconds\\)') + field('System time \\(seconds\\)')) * 1000;
  return { ms, cpu, mib: field('Maximum resident set size \\(kbytes\\)') / 1024, out: r.stdout + r.stderr };
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
