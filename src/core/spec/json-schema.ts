import { stageKinds } from '../../stages/index.js';
import type { Field } from './fields.js';
import { pipelineField, runStageField, SHELL_KEYS, usesStageField } from './pipeline-schema.js';

type Schema = Record<string, unknown>;

const PARAM_REF: Schema = {
  type: 'string',
  pattern: '^\\$\\{params\\.[^{}]+\\}$',
  description: 'A parameter, ${params.NAME}, substituted with its type kept.',
};

/**
 * A field as JSON Schema (draft-07): descriptions, defaults and bounds carried over. With `paramRefs`,
 * a value that is not a free string also accepts a lone `${params.NAME}`, which the loader substitutes
 * before validating.
 */
export function fieldToJsonSchema(field: Field, paramRefs = true): Schema {
  const free = field.type === 'any' || field.type === 'oneOf' || (field.type === 'string' && field.enum === undefined && field.pattern === undefined);
  if (!paramRefs || free) return plainSchema(field, paramRefs);
  return withDefault(field, { description: field.description, anyOf: [baseSchema(field, paramRefs), { $ref: '#/definitions/paramRef' }] });
}

function plainSchema(field: Field, paramRefs: boolean): Schema {
  return withDefault(field, { description: field.description, ...baseSchema(field, paramRefs) });
}

function withDefault(field: Field, schema: Schema): Schema {
  return field.default === undefined ? schema : { ...schema, default: field.default };
}

function baseSchema(field: Field, paramRefs: boolean): Schema {
  switch (field.type) {
    case 'string':
      return { type: 'string', ...(field.enum ? { enum: [...field.enum] } : {}), ...(field.pattern ? { pattern: field.pattern } : {}) };
    case 'number':
      return {
        type: field.integer ? 'integer' : 'number',
        ...(field.minimum !== undefined ? { minimum: field.minimum } : {}),
        ...(field.maximum !== undefined ? { maximum: field.maximum } : {}),
        ...(field.exclusiveMinimum !== undefined ? { exclusiveMinimum: field.exclusiveMinimum } : {}),
        ...(field.exclusiveMaximum !== undefined ? { exclusiveMaximum: field.exclusiveMaximum } : {}),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'array':
      return { type: 'array', items: fieldToJsonSchema(field.items, paramRefs), ...(field.minItems !== undefined ? { minItems: field.minItems } : {}) };
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(field.properties).map(([k, v]) => [k, fieldToJsonSchema(v, paramRefs)])),
        ...(field.required?.length ? { required: [...field.required] } : {}),
        additionalProperties: false,
      };
    case 'map':
      return {
        type: 'object',
        additionalProperties: fieldToJsonSchema(field.values, paramRefs),
        ...(field.keyPattern !== undefined ? { propertyNames: { pattern: field.keyPattern } } : {}),
      };
    case 'oneOf':
      return { anyOf: [...field.variants.map((v) => plainSchema(v, paramRefs)), ...(paramRefs ? [{ $ref: '#/definitions/paramRef' }] : [])] };
    case 'tagged': {
      const names = Object.keys(field.variants);
      return {
        type: 'object',
        required: [field.tag],
        properties: { [field.tag]: { enum: names } },
        allOf: names.map((name) => {
          const then = baseSchema(field.variants[name], paramRefs);
          then.properties = { ...(then.properties as Schema), [field.tag]: { const: name } };
          return { if: { properties: { [field.tag]: { const: name } }, required: [field.tag] }, then };
        }),
      };
    }
    case 'any':
      return {};
  }
}

/**
 * The JSON Schema of a pipeline file, for editors (yaml-language-server): the top level from
 * pipeline-schema.ts, and each registered kind's `with` block chosen by `if uses == KIND`.
 */
export function pipelineJsonSchema(): Schema {
  const kinds = [...stageKinds.values()].filter((k) => k.kind !== 'shell').sort((a, b) => a.kind.localeCompare(b.kind));
  const usesStage = fieldToJsonSchema(usesStageField, false);
  const usesProps = usesStage.properties as Record<string, Schema>;
  usesProps.uses = { ...usesProps.uses, enum: kinds.map((k) => k.kind) };
  usesStage.allOf = kinds.map((kind) => ({
    if: { properties: { uses: { const: kind.kind } }, required: ['uses'] },
    then: {
      properties: { with: { $ref: `#/definitions/kind-${kind.kind}` } },
      ...(kind.config.required?.length ? { required: ['with'] } : {}),
    },
  }));
  const runStage = fieldToJsonSchema(runStageField, false);
  const runProps = runStage.properties as Record<string, Schema>;
  for (const key of SHELL_KEYS) runProps[key] = fieldToJsonSchema(runStageField.properties[key], true);
  const top = fieldToJsonSchema(pipelineField(), false);
  const topProps = top.properties as Record<string, Schema>;
  topProps.stages = { ...topProps.stages, additionalProperties: { $ref: '#/definitions/stage' } };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://mlpipe.dev/schema/pipeline.schema.json',
    title: 'mlpipe pipeline',
    ...top,
    definitions: {
      paramRef: PARAM_REF,
      stage: {
        description: 'One stage: `uses` a built-in kind configured by `with`, or `run` a shell command.',
        oneOf: [{ $ref: '#/definitions/usesStage' }, { $ref: '#/definitions/runStage' }],
      },
      usesStage,
      runStage,
      ...Object.fromEntries(kinds.map((k) => [`kind-${k.kind}`, { ...plainSchema(k.config, true), description: `${k.kind}: ${k.description}` }])),
    },
  };
}

/** The schema file's exact text: what `npm run schema` writes and the test compares with. */
export function renderPipelineJsonSchema(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}
