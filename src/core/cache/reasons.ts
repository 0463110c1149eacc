import { canonicalJson } from '../hash/canonical-json.js';
import type { KeyMaterial } from './key-material.js';

const short = (digest: string) => `${digest.slice(0, 4)}…`;
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

function recordDiffs(label: string, prev: Record<string, string>, cur: Record<string, string>, fmt: (k: string) => string): string[] {
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(cur)])].sort();
  return keys.flatMap((k) => {
    if (prev[k] === cur[k]) return [];
    if (prev[k] === undefined) return [`${label} ${fmt(k)} added`];
    if (cur[k] === undefined) return [`${label} ${fmt(k)} removed`];
    return [`${label} ${fmt(k)} changed (${short(prev[k])} → ${short(cur[k])})`];
  });
}

/**
 * Why a stage's key differs from the one it had when it last ran, most telling first:
 * `param lr 0.001 → 0.01`, `input data/in.csv changed (3f2a… → 91bc…)`, `command changed`.
 */
export function explainKeyChange(prev: KeyMaterial, cur: KeyMaterial): string[] {
  const reasons: string[] = [];
  if (prev.kind !== cur.kind || prev.version !== cur.version) {
    reasons.push(`stage kind ${prev.kind} v${prev.version} → ${cur.kind} v${cur.version}`);
  }
  const paramKeys = [...new Set([...Object.keys(prev.params ?? {}), ...Object.keys(cur.params ?? {})])].sort();
  for (const k of paramKeys) {
    if (!same(prev.params?.[k], cur.params?.[k])) reasons.push(`param ${k} ${show(prev.params?.[k])} → ${show(cur.params?.[k])}`);
  }
  reasons.push(...recordDiffs('input', prev.inputs ?? {}, cur.inputs ?? {}, (k) => k));
  reasons.push(...recordDiffs('upstream output', prev.upstream ?? {}, cur.upstream ?? {}, (k) => k));
  const changedParamValues = paramKeys.filter((k) => !same(prev.params?.[k], cur.params?.[k])).map((k) => show(cur.params?.[k]));
  const explainedByParam = (to: unknown) => changedParamValues.some((v) => show(to).includes(v));
  for (const d of configDiffs(prev.config, cur.config)) {
    if (explainedByParam(d.to)) continue;
    if (d.path === 'run') reasons.push('command changed');
    else if (d.path.startsWith('env.')) reasons.push(`env ${d.path.slice(4)} changed`);
    else reasons.push(`config ${d.path} ${show(d.from)} → ${show(d.to)}`);
  }
  if (!same(prev.outputs, cur.outputs)) reasons.push('declared outputs changed');
  return reasons.length > 0 ? reasons : ['cache key changed'];
}
