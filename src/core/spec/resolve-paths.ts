import { isAbsolute, resolve } from 'node:path';
import type { Field } from '../../schema/fields.js';

/**
 * Makes every `path` field of a config absolute against `dir`. Values that are not plain strings,
 * or already absolute, are left alone; output references must be substituted before this runs.
 */
export function resolveConfigPaths(field: Field, value: unknown, dir: string): unknown {
  if (value === undefined || value === null) return value;
  switch (field.type) {
    case 'string':
      return field.path && typeof value === 'string' && !isAbsolute(value) ? resolve(dir, value) : value;
    case 'array':
      return Array.isArray(value) ? value.map((v) => resolveConfigPaths(field.items, v, dir)) : value;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, field.properties[k] ? resolveConfigPaths(field.properties[k], v, dir) : v]),
      );
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, resolveConfigPaths(field.values, v, dir)]));
    case 'oneOf': {
      const variant = field.variants.find((v) => matchesJsonType(v, value));
      return variant ? resolveConfigPaths(variant, value, dir) : value;
    }
    case 'tagged': {
      const tag = (value as Record<string, unknown>)[field.tag];
      const variant = typeof tag === 'string' ? field.variants[tag] : undefined;
      return variant ? resolveConfigPaths(variant, value, dir) : value;
    }
    default:
      return value;
  }
}

function matchesJsonType(field: Field, value: unknown): boolean {
  switch (field.type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
    case 'map':
    case 'tagged':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}
