import { canonicalJson } from '../hash/canonical-json.js';
import type { KeyMaterial } from './key.js';
import { CODE_INPUT_PREFIX } from '../code-deps/entries.js';

/**
 * Why a stage is restored or run, as data. `src/render/reasons.ts` turns them into the words
 * people and the `reason` field of the `--json` summary read ("param lr 0.001 → 0.01").
 * `from`/`to` of a value are absent when it was unset; digests are null when the path was absent.
 */
export type CacheReason =
  | { kind: 'identical-inputs' }
  | { kind: 'frozen'; runId: string }
  | { kind: 'upstream-identical'; stages: string[] }
  | { kind: 'forced' }
  | { kind: 'cache-disabled' }
  | { kind: 'never-run' }
  | { kind: 'entry-missing' }
  /** Its key matches the lock file's entry (up to date), but no cache here holds the outputs. */
  | { kind: 'locked-not-cached'; lockFile: string }
  | { kind: 'entry-unusable' }
  | { kind: 'upstream-reruns'; stage: string }
  | { kind: 'stage-version'; from: { kind: string; version: number }; to: { kind: string; version: number } }
  | { kind: 'param'; name: string; from?: unknown; to?: unknown }
  | { kind: 'input-changed'; path: string; from: string | null; to: string | null }
  /** A code file the command runs (a script, or a local module it imports): `from` null when newly imported, `to` null when no longer. */
  | { kind: 'code-changed'; path: string; from: string | null; to: string | null }
  | { kind: 'upstream-output-changed'; output: string; from: string | null; to: string | null }
  | { kind: 'command-changed' }
  | { kind: 'env-changed'; name: string }
  | { kind: 'config'; path: string; from?: unknown; to?: unknown }
  | { kind: 'declared-outputs-changed' }
  | { kind: 'key-changed' };

const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : canonicalJson(v));
const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** Config paths whose values differ, e.g. `optimizer.learning_rate`. */
function configDiffs(prev: unknown, cur: unknown, path: string[] = []): { path: string; from: unknown; to: unknown }[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(prev) && isObj(cur)) {
    const keys = [...new Set([...Object.keys(prev), ...Object.keys(cur)])].sort();
    return keys.flatMap((k) => configDiffs(prev[k], cur[k], [...path, k]));
  }
  return same(prev, cur) ? [] : [{ path: path.join('.'), from: prev, to: cur }];
}

function digestDiffs(prev: Record<string, string>, cur: Record<string, string>): { name: string; from: string | null; to: string | null }[] {
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(cur)])].sort();
  return keys.filter((k) => prev[k] !== cur[k]).map((name) => ({ name, from: prev[name] ?? null, to: cur[name] ?? null }));
}

/**
 * Why a stage's key differs from the one it had when it last ran, most telling first: a param,
 * an input, the code the command runs, an upstream output, the command, env, another config value, the declared outputs.
 * Config changes that only carry a changed param's new value are left out (the param says it).
 */
export function explainKeyChange(prev: KeyMaterial, cur: KeyMaterial): CacheReason[] {
  const reasons: CacheReason[] = [];
  if (prev.kind !== cur.kind || prev.version !== cur.version) {
    reasons.push({ kind: 'stage-version', from: { kind: prev.kind, version: prev.version }, to: { kind: cur.kind, version: cur.version } });
  }
  const paramKeys = [...new Set([...Object.keys(prev.params ?? {}), ...Object.keys(cur.params ?? {})])].sort();
  const changedParams = paramKeys.filter((k) => !same(prev.params?.[k], cur.params?.[k]));
  for (const name of changedParams) reasons.push({ kind: 'param', name, from: prev.params?.[name], to: cur.params?.[name] });
  const inputDiffs = digestDiffs(prev.inputs ?? {}, cur.inputs ?? {});
  for (const d of inputDiffs) if (!d.name.startsWith(CODE_INPUT_PREFIX)) reasons.push({ kind: 'input-changed', path: d.name, from: d.from, to: d.to });
  for (const d of inputDiffs) if (d.name.startsWith(CODE_INPUT_PREFIX)) reasons.push({ kind: 'code-changed', path: d.name.slice(CODE_INPUT_PREFIX.length), from: d.from, to: d.to });
  for (const d of digestDiffs(prev.upstream ?? {}, cur.upstream ?? {})) reasons.push({ kind: 'upstream-output-changed', output: d.name, from: d.from, to: d.to });
  const changedParamValues = changedParams.map((k) => show(cur.params?.[k]));
  const explainedByParam = (to: unknown) => changedParamValues.some((v) => show(to).includes(v));
  for (const d of configDiffs(prev.config, cur.config)) {
    if (explainedByParam(d.to)) continue;
    if (d.path === 'run') reasons.push({ kind: 'command-changed' });
    else if (d.path.startsWith('env.')) reasons.push({ kind: 'env-changed', name: d.path.slice(4) });
    else reasons.push({ kind: 'config', path: d.path, from: d.from, to: d.to });
  }
  if (!same(prev.outputs, cur.outputs)) reasons.push({ kind: 'declared-outputs-changed' });
  return reasons.length > 0 ? reasons : [{ kind: 'key-changed' }];
}
