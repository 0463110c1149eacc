import { parseDocument } from 'yaml';
import { didYouMean } from '../../schema/did-you-mean.js';
import { isPlainObject } from '../../schema/validate-fields.js';

/** One `--set KEY=VALUE` item, split and typed. */
export interface SetItem {
  /** The item as given, e.g. `params.lr=0.01`. */
  text: string;
  /** The dotted key split on dots, e.g. `['params', 'lr']`. */
  key: string[];
  value: unknown;
}

/** A problem with an override, at a dotted key (`params.lr`) relative to what was overridden. */
export interface OverrideIssue {
  key: string[];
  message: string;
  hint?: string;
}

/**
 * The largest param value, as UTF-8 (JSON for lists and mappings): params are spliced into command lines,
 * cache keys and records, and a command line holds at most 128 KiB in one argument.
 */
export const MAX_PARAM_BYTES = 64 * 1024;

/** Why `value` is too large to be a param, or undefined. */
export function paramSizeProblem(value: unknown): { message: string; hint: string } | undefined {
  const bytes = Buffer.byteLength(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  if (bytes <= MAX_PARAM_BYTES) return undefined;
  return {
    message: `expected a param value of at most ${MAX_PARAM_BYTES / 1024} KiB, got ${Math.ceil(bytes / 1024)} KiB`,
    hint: 'write large values to a file and pass its path as the param (and list the file in deps)',
  };
}

/** Splits `KEY=VALUE` at the first `=` and types VALUE as a YAML scalar (`0.01` → 0.01, `true` → true, `a b` → "a b"). */
export function parseSetItem(text: string): SetItem | OverrideIssue {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim().split('.');
  if (eq < 0 || key.some((k) => k === '')) {
    return { key, message: `expected KEY=VALUE, got "${text.length > 200 ? `${text.slice(0, 200)}…` : text}"`, hint: 'e.g. --set params.lr=0.01 or --set train.epochs=20' };
  }
  if (key.includes('__proto__')) return { key, message: 'expected a key name, got "__proto__"' };
  const tooLarge = paramSizeProblem(text.slice(eq + 1));
  if (tooLarge) return { key, ...tooLarge };
  return { text, key, value: parseOverrideValue(text.slice(eq + 1)) };
}

/**
 * Types a value given on the command line as YAML would: numbers, booleans and null become those; a
 * quoted string loses its quotes; a flow list or mapping (`[1, 2]`, `{a: 1}`) becomes one; anything
 * else stays exactly the string as given (so `echo a: b` and `echo #1` are not read as YAML).
 */
export function parseOverrideValue(raw: string): unknown {
  if (raw.trim() === '') return raw;
  try {
    const doc = parseDocument(raw, { prettyErrors: false });
    if (doc.errors.length > 0) return raw;
    const value: unknown = doc.toJS({ maxAliasCount: 0 });
    if (typeof value === 'object' && value !== null && !/^\s*[[{]/.test(raw)) return raw;
    if (typeof value === 'string' && !/^\s*["']/.test(raw)) return raw;
    return value;
  } catch {
    return raw;
  }
}

/** Sets `value` at an existing param path (dots reach into nested params); an unknown name is an issue. */
export function setParam(params: Record<string, unknown>, key: string[], value: unknown): OverrideIssue | undefined {
  let container: unknown = params;
  for (let i = 0; i < key.length; i++) {
    const part = key[i];
    const known = isPlainObject(container) ? Object.keys(container) : Array.isArray(container) ? container.map((_, k) => String(k)) : [];
    if (!known.includes(part)) return unknownParam(key.slice(0, i + 1), known);
    if (i === key.length - 1) {
      (container as Record<string, unknown>)[part] = value;
      return undefined;
    }
    container = (container as Record<string, unknown>)[part];
  }
  return undefined;
}

/** Merges a params file over the spec's params: mappings merge key by key, other values replace; unknown names are issues. */
export function mergeParams(params: Record<string, unknown>, overlay: Record<string, unknown>, issues: OverrideIssue[], prefix: string[] = []): void {
  for (const [name, value] of Object.entries(overlay)) {
    if (!Object.hasOwn(params, name)) {
      issues.push(unknownParam([...prefix, name], Object.keys(params)));
      continue;
    }
    const current = params[name];
    if (isPlainObject(current) && isPlainObject(value)) mergeParams(current, value, issues, [...prefix, name]);
    else params[name] = structuredClone(value);
  }
}

/** Sets `value` at `key` inside `target`, creating mappings on the way; a numeric key indexes an existing list. */
export function setConfigValue(target: Record<string, unknown>, key: string[], value: unknown): OverrideIssue | undefined {
  let container: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < key.length; i++) {
    const part = key[i];
    const last = i === key.length - 1;
    if (Array.isArray(container)) {
      const index = /^\d+$/.test(part) ? Number(part) : -1;
      if (index < 0 || index > container.length) {
        return { key: key.slice(0, i + 1), message: `expected a list index from 0 to ${container.length}, got "${part}"` };
      }
      if (last) container[index] = value;
      else container = descend(container, index);
    } else if (last) {
      container[part] = value;
    } else {
      container = descend(container, part);
    }
  }
  return undefined;
}

function descend(container: Record<string, unknown> | unknown[], key: string | number): Record<string, unknown> | unknown[] {
  const next = Object.hasOwn(container, key) ? (container as Record<string | number, unknown>)[key] : undefined;
  if (Array.isArray(next) || isPlainObject(next)) return next;
  const created: Record<string, unknown> = {};
  (container as Record<string | number, unknown>)[key] = created;
  return created;
}

function unknownParam(key: string[], known: string[]): OverrideIssue {
  const prefix = key.slice(0, -1).join('.');
  const close = didYouMean(key[key.length - 1], known, (s) => `"${prefix === '' ? '' : `${prefix}.`}${s}"`);
  const where = prefix === '' ? 'a declared param' : `a key of params.${prefix}`;
  return {
    key,
    message: `expected ${where} (${known.join(', ') || 'none'}), got "${key[key.length - 1]}"`,
    hint: close ?? 'params must be declared with a default under "params:" in the spec before they can be set',
  };
}
