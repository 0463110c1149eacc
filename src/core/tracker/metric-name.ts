/**
 * A final metric's name is `STAGE.KEY` (`evaluate.accuracy`). A stage's own name has no dot, but a
 * stage made by a template carries its item after `@`, and the item may have dots
 * (`train@lr0.1`, `fit@0.001`); the key may have dots too (a shell stage's nested metrics.json:
 * `scores.f1`). So the name is split at its first dot, except inside an `@` suffix, where a dot
 * followed by a digit belongs to the item (`train@lr0.1.accuracy` → `train@lr0.1` + `accuracy`).
 * When the stages that exist are known, the longest of them that prefixes the name wins instead.
 */
export interface MetricNameParts {
  stage: string;
  key: string;
}

/** The stage and key of `STAGE.KEY`; undefined for a name without a stage (no dot). */
export function splitMetricName(name: string, knownStages?: Iterable<string>): MetricNameParts | undefined {
  if (knownStages) {
    let best = '';
    for (const s of knownStages) if (s.length > best.length && name.length > s.length + 1 && name.startsWith(`${s}.`)) best = s;
    if (best) return { stage: best, key: name.slice(best.length + 1) };
  }
  const first = name.indexOf('.');
  if (first <= 0 || first === name.length - 1) return undefined;
  const at = name.indexOf('@');
  let cut = first;
  if (at >= 0 && at < first) {
    while (cut < name.length - 1 && /[0-9]/.test(name[cut + 1]!)) {
      const next = name.indexOf('.', cut + 1);
      if (next < 0 || next === name.length - 1) break;
      cut = next;
    }
  }
  return { stage: name.slice(0, cut), key: name.slice(cut + 1) };
}

/** The key of `STAGE.KEY` (the name itself when it has no stage). */
export function metricKeyOf(name: string): string {
  return splitMetricName(name)?.key ?? name;
}

/** The stage of `STAGE.KEY` ('' when it has none). */
export function metricStageOf(name: string): string {
  return splitMetricName(name)?.stage ?? '';
}
