import type { Field, NumberField, ObjectField, StringField } from './fields.js';
import { didYouMean } from './did-you-mean.js';
import type { NodeSide, PathSegment } from './yaml-source.js';

/** One problem found by `validateField`, at a path relative to the validated value. */
export interface FieldIssue {
  path: PathSegment[];
  message: string;
  hint?: string;
  side: NodeSide;
}

/** A string value that a `path` field declared, found while validating. */
export interface PathUse {
  path: PathSegment[];
  value: string;
  mode: 'input' | 'output';
}

export interface ValidateOptions {
  /** Strings accepted wherever a plain string or path is expected although they are not final, e.g. `${stages.X.outputs.Y}`. */
  isDeferred?: (s: string) => boolean;
  /** Strings an earlier phase already reported; accepted anywhere so one mistake is reported once. */
  isReported?: (s: string) => boolean;
  /** Called for every string validated by a field with `path` set. */
  onPath?: (use: PathUse) => void;
}

type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

/**
 * Checks `value` against `field`, appending every problem to `issues`, and returns the value with
 * defaults applied (a new value; the input is not changed). Missing keys whose field has a default get
 * it; a default that is an object or list is validated too, so its own defaults are filled in.
 */
export function validateField(value: unknown, field: Field, issues: FieldIssue[], opts: ValidateOptions = {}, path: PathSegment[] = []): unknown {
  const fail = (message: string, hint?: string, side: NodeSide = 'value'): unknown => {
    issues.push(hint === undefined ? { path, message, side } : { path, message, hint, side });
    return value;
  };
  if (typeof value === 'string' && opts.isReported?.(value)) return value;
  switch (field.type) {
    case 'any':
      return value;
    case 'string':
      return validateString(value, field, opts, path, fail);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (field.integer && !Number.isInteger(value)) || !inBounds(value, field)) {
        return fail(expectedGot(field, value));
      }
      return value;
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(expectedGot(field, value));
    case 'array': {
      if (!Array.isArray(value) || (field.minItems !== undefined && value.length < field.minItems)) return fail(expectedGot(field, value));
      return value.map((item, i) => validateField(item, field.items, issues, opts, [...path, i]));
    }
    case 'object':
      if (!isPlainObject(value)) return fail(expectedGot(field, value));
      return validateObject(value, field, issues, opts, path);
    case 'map': {
      if (!isPlainObject(value)) return fail(expectedGot(field, value));
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (field.keyPattern !== undefined && !new RegExp(field.keyPattern).test(key)) {
          issues.push({ path: [...path, key], message: `expected a key matching /${field.keyPattern}/, got "${key}"`, side: 'key' });
        }
        out[key] = validateField(item, field.values, issues, opts, [...path, key]);
      }
      return out;
    }
    case 'tagged': {
      if (!isPlainObject(value)) return fail(expectedGot(field, value));
      const names = Object.keys(field.variants);
      const tag = value[field.tag];
      if (typeof tag !== 'string' || !Object.hasOwn(field.variants, tag)) {
        const got = tag === undefined ? `no "${field.tag}" key` : describeValue(tag);
        const at: PathSegment[] = tag === undefined ? path : [...path, field.tag];
        issues.push({
          path: at,
          message: `expected "${field.tag}" to be one of ${names.join(', ')}, got ${got}`,
          ...(typeof tag === 'string' && didYouMean(tag, names) ? { hint: didYouMean(tag, names) } : {}),
          side: 'value',
        });
        return value;
      }
      const variant = field.variants[tag];
      if (Object.hasOwn(variant.properties, field.tag)) return validateObject(value, variant, issues, opts, path);
      const { [field.tag]: _, ...rest } = value;
      return { [field.tag]: tag, ...validateObject(rest, variant, issues, opts, path) };
    }
    case 'oneOf': {
      const type = jsonType(value);
      const variant = field.variants.find((v) => acceptsType(v, type));
      if (!variant) return fail(expectedGot(field, value));
      return validateField(value, variant, issues, opts, path);
    }
  }
}

function validateString(value: unknown, field: StringField, opts: ValidateOptions, path: PathSegment[], fail: (m: string, h?: string) => unknown): unknown {
  if (typeof value !== 'string') return fail(expectedGot(field, value));
  const deferred = field.enum === undefined && opts.isDeferred?.(value) === true;
  if (!deferred) {
    if (field.enum !== undefined) {
      const canonical = enumValue(field, value);
      if (canonical === undefined) return fail(expectedGot(field, value), didYouMean(value, [...field.enum, ...Object.keys(field.aliases ?? {})]));
      return canonical;
    }
    if (field.pattern !== undefined && !new RegExp(field.pattern).test(value)) return fail(expectedGot(field, value));
  }
  if (field.path !== undefined) opts.onPath?.({ path, value, mode: field.path });
  return value;
}

/** The enum value `value` stands for: itself, an alias, or (ignoreCase) either in another letter case. */
export function enumValue(field: StringField, value: string): string | undefined {
  if (field.enum!.includes(value)) return value;
  const alias = field.aliases && Object.hasOwn(field.aliases, value) ? field.aliases[value] : undefined;
  if (alias !== undefined) return alias;
  if (!field.ignoreCase) return undefined;
  const lower = value.toLowerCase();
  const direct = field.enum!.find((e) => e.toLowerCase() === lower);
  if (direct !== undefined) return direct;
  const key = Object.keys(field.aliases ?? {}).find((a) => a.toLowerCase() === lower);
  return key === undefined ? undefined : field.aliases![key];
}

function validateObject(value: Record<string, unknown>, field: ObjectField, issues: FieldIssue[], opts: ValidateOptions, path: PathSegment[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = [...Object.keys(field.properties), ...Object.keys(field.keyAliases ?? {})];
  if (field.keyAliases) {
    const renamed: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const canonical = Object.hasOwn(field.keyAliases, key) ? field.keyAliases[key]! : key;
      if (canonical !== key && Object.hasOwn(value, canonical)) {
        issues.push({ path: [...path, key], message: `"${key}" and "${canonical}" name the same setting; give one`, hint: `remove "${key}"`, side: 'key' });
        continue;
      }
      renamed[canonical] = item;
    }
    value = renamed;
  }
  for (const [key, item] of Object.entries(value)) {
    const prop = Object.hasOwn(field.properties, key) ? field.properties[key] : undefined;
    if (!prop) {
      const hint = didYouMean(key, known);
      issues.push({
        path: [...path, key],
        message: known.length === 0 ? `expected no keys here, got "${key}"` : `expected a known key (${known.join(', ')}), got "${key}"`,
        ...(hint ? { hint } : {}),
        side: 'key',
      });
      continue;
    }
    out[key] = validateField(item, prop, issues, opts, [...path, key]);
  }
  for (const [key, prop] of Object.entries(field.properties)) {
    if (Object.hasOwn(value, key)) continue;
    if (field.required?.includes(key)) {
      issues.push({ path, message: `expected a "${key}" key (${describeField(prop)}), got none`, hint: `add "${key}:" — ${prop.description}`, side: 'key' });
    } else if (prop.default !== undefined) {
      out[key] = validateField(structuredClone(prop.default), prop, [], opts, [...path, key]);
    }
  }
  return out;
}

function inBounds(n: number, f: NumberField): boolean {
  return (
    (f.minimum === undefined || n >= f.minimum) &&
    (f.maximum === undefined || n <= f.maximum) &&
    (f.exclusiveMinimum === undefined || n > f.exclusiveMinimum) &&
    (f.exclusiveMaximum === undefined || n < f.exclusiveMaximum)
  );
}

/** `expected an integer ≥ 1, got 0` */
export function expectedGot(field: Field, value: unknown): string {
  return `expected ${describeField(field)}, got ${describeValue(value)}`;
}

/** What a field accepts, in words: `an integer ≥ 1`, `one of "adam", "sgd"`, `a list of at least 1 item`. */
export function describeField(field: Field): string {
  switch (field.type) {
    case 'string':
      if (field.enum) return `one of ${field.enum.map((e) => `"${e}"`).join(', ')}`;
      if (field.pattern) return `a string matching /${field.pattern}/`;
      return field.path ? 'a path' : 'a string';
    case 'number': {
      const bounds = [
        field.minimum !== undefined ? `≥ ${field.minimum}` : '',
        field.exclusiveMinimum !== undefined ? `> ${field.exclusiveMinimum}` : '',
        field.maximum !== undefined ? `≤ ${field.maximum}` : '',
        field.exclusiveMaximum !== undefined ? `< ${field.exclusiveMaximum}` : '',
      ].filter(Boolean);
      return `${field.integer ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return field.minItems ? `a list of at least ${field.minItems} item${field.minItems === 1 ? '' : 's'}` : 'a list';
    case 'object':
    case 'map':
      return 'a mapping';
    case 'tagged':
      return `a mapping with "${field.tag}: ${Object.keys(field.variants).join('|')}"`;
    case 'oneOf':
      return field.variants.map(describeField).join(' or ');
    case 'any':
      return 'any value';
  }
}

/** A value in words for messages: `0`, `"abc"`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `${value} (a number out of range)`;
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return String(value);
}

function jsonType(value: unknown): JsonType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

function acceptsType(field: Field, type: JsonType): boolean {
  switch (field.type) {
    case 'any':
      return true;
    case 'object':
    case 'map':
    case 'tagged':
      return type === 'object';
    case 'oneOf':
      return field.variants.some((v) => acceptsType(v, type));
    default:
      return field.type === type;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
