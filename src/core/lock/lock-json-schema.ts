import { fieldToJsonSchema, type Schema } from '../../schema/json-schema.js';
import { lockFileField } from './lock-schema.js';

/** The JSON Schema of lock files (`pipeline.lock`), for editors and other tools, from lock-schema.ts. */
export function lockJsonSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://mlpipe.dev/schema/lock.schema.json',
    title: 'mlpipe lock file (pipeline.lock)',
    ...fieldToJsonSchema(lockFileField, false),
  };
}

/** The schema file's exact text: what `npm run schema` writes and the test compares with. */
export function renderLockJsonSchema(): string {
  return `${JSON.stringify(lockJsonSchema(), null, 2)}\n`;
}
