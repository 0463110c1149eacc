import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, renderConfigJsonSchema } from '../../../src/core/config/config-json-schema.js';

// Issue 11 item 1: mlpipe.yaml has a JSON Schema, generated from the same declarations the loader validates with.

describe('schema/config.schema.json', () => {
  it('is the schema generated from the current declarations (regenerate with npm run schema after a build)', () => {
    const onDisk = readFileSync(new URL('../../../schema/config.schema.json', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderConfigJsonSchema());
  });

  const validate = new Ajv({ strict: false }).compile(configJsonSchema());
  const ok = (text: string) => validate(parse(text));

  it('accepts a full configuration and refuses unknown keys, secrets and bad values', () => {
    expect(
      ok('tracker: postgresql://ana@db:5432/mlpipe\nremotes:\n  origin: { url: s3://b/p, endpoint: "http://127.0.0.1:9000", path_style: true, region: eu-west-1, profile: team }\ndefault_remote: origin\nautopush: true\nexecutor: queue\nqueue: redis://q:6379\nqueue_prefix: team\n'),
    ).toBe(true);
    expect(ok('trackr: x\n')).toBe(false);
    expect(ok('remotes:\n  origin: { url: s3://b/p, secret_access_key: abc }\n')).toBe(false);
    expect(ok('remotes:\n  origin: { endpoint: "http://x" }\n')).toBe(false);
    expect(ok('executor: cluster\n')).toBe(false);
    expect(ok('autopush: "yes"\n')).toBe(false);
  });

  it('describes every key', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }> };
    expect(Object.keys(schema.properties)).toEqual(['tracker', 'remotes', 'default_remote', 'autopush', 'executor', 'queue', 'queue_prefix', 'cache']);
    for (const [key, p] of Object.entries(schema.properties)) expect(p.description, key).toBeTruthy();
    const cacheType = (schema.properties.cache as unknown as { properties: Record<string, { default: unknown; items: { enum: string[] } }> }).properties.type!;
    expect(cacheType.default).toEqual(['reflink', 'copy']);
    expect(cacheType.items.enum).toEqual(['reflink', 'hardlink', 'copy']);
  });
});
