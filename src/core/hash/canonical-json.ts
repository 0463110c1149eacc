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
  const out = write(value, '$', new Set());
  if (out === undefined) throw new CanonicalJsonError('$', 'is undefined');
  return out;
}

/** Lowercase hex SHA-256 of `text` encoded as UTF-8. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of the canonical JSON of `value`, lowercase hex (cache keys, folder digests). */
export function jsonDigest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

function write(value: unknown, path: string, stack: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `is ${value}, not a finite number`);
      return JSON.stringify(value);
    case 'object':
      return writeObject(value, path, stack);
    default:
      throw new CanonicalJsonError(path, `is a ${typeof value}`);
  }
}

function writeObject(value: object, path: string, stack: Set<object>): string | undefined {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), path, stack);
  if (value instanceof Map || value instanceof Set) throw new CanonicalJsonError(path, `is a ${value.constructor.name}`);
  if (stack.has(value)) throw new CanonicalJsonError(path, 'refers back to itself (a cycle)');
  stack.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item, i) => write(item, `${path}[${i}]`, stack) ?? 'null').join(',')}]`;
    }
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const item = write((value as Record<string, unknown>)[key], `${path}.${key}`, stack);
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    stack.delete(value);
  }
}
