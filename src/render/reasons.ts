import { canonicalJson } from '../core/hash/canonical-json.js';
import type { StageReason } from '../core/run/events.js';

const short = (digest: string) => `${digest.slice(0, 4)}…`;
const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : canonicalJson(v));

function digestChange(label: string, name: string, from: string | null, to: string | null): string {
  if (from === null) return `${label} ${name} added`;
  if (to === null) return `${label} ${name} removed`;
  return `${label} ${name} changed (${short(from)} → ${short(to)})`;
}

/** One reason in words: `param lr 0.001 → 0.01`, `input data/in.csv changed (3f2a… → 91bc…)`, `upstream prep re-runs`. */
export function reasonText(r: StageReason): string {
  switch (r.kind) {
    case 'identical-inputs':
      return 'restored: identical inputs';
    case 'frozen':
      return `frozen: keeps the outputs of run ${r.runId}`;
    case 'upstream-identical':
      return 'restored: upstream outputs identical';
    case 'forced':
      return 'forced (--force)';
    case 'cache-disabled':
      return 'cache disabled for this stage';
    case 'never-run':
      return 'never run';
    case 'entry-missing':
      return 'cache entry missing';
    case 'locked-not-cached':
      return `up to date (from ${r.lockFile}); its outputs are in no cache here`;
    case 'entry-unusable':
      return 'cache entry unusable (corrupt or missing object); running the stage';
    case 'upstream-reruns':
      return `upstream ${r.stage} re-runs`;
    case 'stage-version':
      return `stage kind ${r.from.kind} v${r.from.version} → ${r.to.kind} v${r.to.version}`;
    case 'param':
      return `param ${r.name} ${show(r.from)} → ${show(r.to)}`;
    case 'input-changed':
      return digestChange('input', r.path, r.from, r.to);
    case 'code-changed':
      if (r.from === null) return `code ${r.path} added (the command now runs or imports it)`;
      if (r.to === null) return `code ${r.path} removed (the command no longer imports it)`;
      return digestChange('code', r.path, r.from, r.to);
    case 'upstream-output-changed':
      return digestChange('upstream output', r.output, r.from, r.to);
    case 'command-changed':
      return 'command changed';
    case 'env-changed':
      return `env ${r.name} changed`;
    case 'config':
      return `config ${r.path} ${show(r.from)} → ${show(r.to)}`;
    case 'declared-outputs-changed':
      return 'declared outputs changed';
    case 'key-changed':
      return 'cache key changed';
    case 'upstream-not-completed':
      return `upstream ${r.stage} ${r.status === 'not run' ? 'did not run' : r.status}`;
    case 'upstream-pruned':
      return `upstream ${r.stage} was pruned by the search after epoch ${r.epoch}`;
    case 'interrupted-before-start':
      return 'interrupted before it started';
    case 'lookup-failed':
      return `the cache lookup failed: ${r.error}`;
  }
}

/** The line a stage summary and the tracker keep: the most telling reason. */
export function reasonLine(reasons: readonly StageReason[]): string {
  return reasons.length > 0 ? reasonText(reasons[0]!) : '';
}
