import { fieldToJsonSchema, type Schema } from '../../schema/json-schema.js';
import { configField } from './config-schema.js';

/** The JSON Schema of mlpipe.yaml, for editors (yaml-language-server), from config-schema.ts. */
export function configJsonSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://mlpipe.dev/schema/config.schema.json',
    title: 'mlpipe project configuration (mlpipe.yaml)',
    ...fieldToJsonSchema(configField, false),
  };
}

/** The schema file's exact text: what `npm run schema` writes and the test compares with. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
