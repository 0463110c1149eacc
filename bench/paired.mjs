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
