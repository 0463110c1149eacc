import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f } from '../../../src/schema/fields.js';
import { fieldToJsonSchema } from '../../../src/schema/json-schema.js';
import { pipelineJsonSchema, renderPipelineJsonSchema } from '../../../src/core/spec/pipeline-json-schema.js';
import { usableKindNames } from '../../../src/core/spec/load-spec.js';
import { stageKinds } from '../../../src/stages/index.js';

describe('schema/pipeline.schema.json', () => {
  it('is the schema generated from the current declarations (regenerate with npm run schema after a build)', () => {
    const onDisk = readFileSync(new URL('../../../schema/pipeline.schema.json', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderPipelineJsonSchema(stageKinds));
  });
});

describe('pipelineJsonSchema', () => {
  const schema = pipelineJsonSchema(stageKinds) as Record<string, any>;

  it('is draft-07 and every $ref resolves', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const refs = JSON.stringify(schema).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/definitions/'.length, -1);
      expect(schema.definitions, ref).toHaveProperty([name]);
    }
  });

  it('chooses the with block by the uses kind, for every registered kind', () => {
    const kinds = usableKindNames(stageKinds);
    expect(schema.definitions.usesStage.properties.uses.enum).toEqual(kinds);
    expect(schema.definitions.usesStage.allOf.map((c: any) => c.if.properties.uses.const)).toEqual(kinds);
    for (const kind of kinds) expect(schema.definitions).toHaveProperty([`kind-${kind}`]);
    expect(schema.definitions.stage.oneOf).toEqual([{ $ref: '#/definitions/usesStage' }, { $ref: '#/definitions/runStage' }, { $ref: '#/definitions/foreachStage' }]);
    expect(schema.definitions.foreachStage.required).toEqual(['foreach', 'do']);
  });

  it('describes run stages from the shell config, and refuses unknown top-level keys', () => {
    expect(schema.definitions.runStage.required).toEqual(['run']);
    expect(Object.keys(schema.definitions.runStage.properties)).toEqual(['run', 'deps', 'outs', 'wdir', 'env', 'metrics', 'plots', 'code_deps', 'description', 'needs', 'cache', 'frozen', 'retries', 'resources', 'matrix']);
    expect(schema.definitions.runStage.properties.resources.properties.labels.items.pattern).toBe('^[A-Za-z0-9_.-]+$');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['stages']);
  });
});

describe('fieldToJsonSchema', () => {
  it('carries descriptions, defaults and bounds; non-strings also take a lone ${params.x}', () => {
    expect(fieldToJsonSchema(f.int('Passes over the data.', { minimum: 1, default: 10 }))).toEqual({
      description: 'Passes over the data.',
      anyOf: [{ type: 'integer', minimum: 1 }, { $ref: '#/definitions/paramRef' }],
      default: 10,
    });
    expect(fieldToJsonSchema(f.path('A file.'))).toEqual({ description: 'A file.', type: 'string' });
    expect(fieldToJsonSchema(f.bool('On.'), false)).toEqual({ description: 'On.', type: 'boolean' });
  });

  it('writes objects closed, maps open with a key pattern, and tagged unions as if/then', () => {
    const layer = f.tagged('A layer.', 'type', {
      dense: f.object('Dense.', { units: f.int('Units.') }, { required: ['units'] }),
      flatten: f.object('Flatten.', {}),
    });
    expect(fieldToJsonSchema(layer, false)).toEqual({
      description: 'A layer.',
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['dense', 'flatten'] } },
      allOf: [
        {
          if: { properties: { type: { const: 'dense' } }, required: ['type'] },
          then: { type: 'object', properties: { units: { description: 'Units.', type: 'integer' }, type: { const: 'dense' } }, required: ['units'], additionalProperties: false },
        },
        {
          if: { properties: { type: { const: 'flatten' } }, required: ['type'] },
          then: { type: 'object', properties: { type: { const: 'flatten' } }, additionalProperties: false },
        },
      ],
    });
    expect(fieldToJsonSchema(f.map('Env.', f.string('A value.'), { keyPattern: '^[A-Z]+$' }), false)).toEqual({
      description: 'Env.',
      type: 'object',
      additionalProperties: { description: 'A value.', type: 'string' },
      propertyNames: { pattern: '^[A-Z]+$' },
    });
  });
});
