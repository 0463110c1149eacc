import { createHash } from 'node:crypto';

/** A value that canonical JSON cannot represent (non-finite number, bigint, function, cycle…), with its JSON path. */
export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot write canonical JSON: ${path} ${reason}. Cache keys and manifests accept only JSON values.`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * Deterministic JSON: object keys sorted recursively (UTF-16 code-unit order, as RFC 8785),
 * no whitespace, arrays kept in order, `undefined` properties dropped (`undefined` in an array
 * becomes `null`, as `JSON.stringify` does), `toJSON` honoured. Throws {@link CanonicalJsonError}
 * on non-finite numbers, bigints, functions, symbols, Maps/Sets and cycles.
 */
export function canonicalJson(value: unknown): string {
  try {
    const out = write(value, new Set());
    if (out === undefined) throw new Unwritable([], 'is undefined');
    return out;
  } catch (error) {
    if (error instanceof Unwritable) throw new CanonicalJsonError(`$${error.segments.reverse().join('')}`, error.reason);
    throw error;
  }
}

/** Lowercase hex SHA-256 of `text` encoded as UTF-8. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of the canonical JSON of `value`, lowercase hex (cache keys, folder digests). */
export function jsonDigest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * What cannot be written, with the path to it from the innermost value out: each enclosing array or
 * object adds its segment while the error passes through, so writing builds no path strings
 * (a 5,000-file folder's digest wrote 20,000 of them).
 */
class Unwritable extends Error {
  constructor(
    readonly segments: string[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

function within<T>(segment: () => string, writeItem: () => T): T {
  try {
    return writeItem();
  } catch (error) {
    if (error instanceof Unwritable) error.segments.push(segment());
    throw error;
  }
}

function write(value: unknown, stack: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Unwritable([], `is ${value}, not a finite number`);
      return JSON.stringify(value);
    case 'object':
      return writeObject(value, stack);
    default:
      throw new Unwritable([], `is a ${typeof value}`);
  }
}

function writeObject(value: object, stack: Set<object>): string | undefined {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), stack);
  if (value instanceof Map || value instanceof Set) throw new Unwritable([], `is a ${value.constructor.name}`);
  if (stack.has(value)) throw new Unwritable([], 'refers back to itself (a cycle)');
  stack.add(value);
  try {
    if (Array.isArray(value)) {
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        const item = isPlain(value[i]) ? write(value[i], stack) : within(() => `[${i}]`, () => write(value[i], stack));
        out += (i > 0 ? ',' : '') + (item ?? 'null');
      }
      return `${out}]`;
    }
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const item = within(() => `.${key}`, () => write((value as Record<string, unknown>)[key], stack));
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    stack.delete(value);
  }
}

/** A string, boolean, null or finite number: written without a path to blame. */
function isPlain(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}
