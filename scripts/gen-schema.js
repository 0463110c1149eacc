// Writes schema/pipeline.schema.json from the compiled field declarations (run after `tsc`).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPipelineJsonSchema } from '../dist/core/spec/pipeline-json-schema.js';
import { stageKinds } from '../dist/stages/index.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'pipeline.schema.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderPipelineJsonSchema(stageKinds));
