// Writes schema/pipeline.schema.json, schema/config.schema.json (mlpipe.yaml) and schema/lock.schema.json (pipeline.lock) from the compiled
// field declarations (run after `tsc`).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPipelineJsonSchema } from '../dist/core/spec/pipeline-json-schema.js';
import { renderConfigJsonSchema } from '../dist/core/config/config-json-schema.js';
import { renderLockJsonSchema } from '../dist/core/lock/lock-json-schema.js';
import { stageKinds } from '../dist/stages/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'pipeline.schema.json'), renderPipelineJsonSchema(stageKinds));
writeFileSync(join(dir, 'config.schema.json'), renderConfigJsonSchema());
writeFileSync(join(dir, 'lock.schema.json'), renderLockJsonSchema());
