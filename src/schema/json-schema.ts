import type { Field } from './fields.js';

export type Schema = Record<string, unknown>;

export const PARAM_REF: Schema = {
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

export function plainSchema(field: Field, paramRefs: boolean): Schema {
  return withDefault(field, { description: field.description, ...baseSchema(field, paramRefs) });
}

function withDefault(field: Field, schema: Schema): Schema {
  return field.default === undefined ? schema : { ...schema, default: field.default };
}

function baseSchema(field: Field, paramRefs: boolean): Schema {
  switch (field.type) {
    case 'string': {
      if (field.enum && field.ignoreCase) return { type: 'string', pattern: anyCasePattern([...field.enum, ...Object.keys(field.aliases ?? {})]) };
      const values = field.enum ? [...field.enum, ...Object.keys(field.aliases ?? {})] : undefined;
      return { type: 'string', ...(values ? { enum: values } : {}), ...(field.pattern ? { pattern: field.pattern } : {}) };
    }
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
        properties: Object.fromEntries([
          ...Object.entries(field.properties).map(([k, v]) => [k, fieldToJsonSchema(v, paramRefs)]),
          ...Object.entries(field.keyAliases ?? {}).map(([alias, k]) => [alias, { ...fieldToJsonSchema(field.properties[k]!, paramRefs), description: `Alias of ${k}.` }]),
        ]),
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

/** `^(?:[aA][dD][aA][mM]|…)$`: the names in any letter case (JSON Schema patterns have no flags). */
function anyCasePattern(names: string[]): string {
  const escape = (ch: string) => (/[\w]/.test(ch) ? (ch.toLowerCase() === ch.toUpperCase() ? ch : `[${ch.toLowerCase()}${ch.toUpperCase()}]`) : `\\${ch}`);
  return `^(?:${names.map((n) => [...n].map(escape).join('')).join('|')})$`;
}

