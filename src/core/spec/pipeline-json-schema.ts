import { fieldToJsonSchema, PARAM_REF, plainSchema, type Schema } from '../../schema/json-schema.js';
import type { StageKinds } from '../stage-kind.js';
import { pipelineField, stageForms } from './pipeline-schema.js';

/**
 * The JSON Schema of a pipeline file, for editors (yaml-language-server): the top level from
 * pipeline-schema.ts, and each registered kind's `with` block chosen by `if uses == KIND`.
 */
export function pipelineJsonSchema(registry: StageKinds): Schema {
  const forms = stageForms(registry);
  const kinds = [...registry.values()].filter((k) => k.kind !== 'shell').sort((a, b) => a.kind.localeCompare(b.kind));
  const usesStage = fieldToJsonSchema(forms.uses, false);
  const usesProps = usesStage.properties as Record<string, Schema>;
  usesProps.uses = { ...usesProps.uses, enum: kinds.map((k) => k.kind) };
  usesStage.allOf = kinds.map((kind) => ({
    if: { properties: { uses: { const: kind.kind } }, required: ['uses'] },
    then: {
      properties: { with: { $ref: `#/definitions/kind-${kind.kind}` } },
      ...(kind.config.required?.length ? { required: ['with'] } : {}),
    },
  }));
  const runStage = fieldToJsonSchema(forms.run, false);
  const runProps = runStage.properties as Record<string, Schema>;
  for (const key of forms.shellKeys) runProps[key] = fieldToJsonSchema(forms.run.properties[key], true);
  const foreachStage = fieldToJsonSchema(forms.foreach, false);
  (foreachStage.properties as Record<string, Schema>).do = {
    description: forms.foreach.properties.do.description,
    oneOf: [{ $ref: '#/definitions/usesStage' }, { $ref: '#/definitions/runStage' }],
  };
  const top = fieldToJsonSchema(pipelineField(forms.shape), false);
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
        description: 'One stage: `uses` a built-in kind configured by `with`, `run` a shell command, or a `foreach` template of either.',
        oneOf: [{ $ref: '#/definitions/usesStage' }, { $ref: '#/definitions/runStage' }, { $ref: '#/definitions/foreachStage' }],
      },
      usesStage,
      runStage,
      foreachStage,
      ...Object.fromEntries(kinds.map((k) => [`kind-${k.kind}`, { ...plainSchema(k.config, true), description: `${k.kind}: ${k.description}` }])),
    },
  };
}

/** The schema file's exact text: what `npm run schema` writes and the test compares with. */
export function renderPipelineJsonSchema(registry: StageKinds): string {
  return `${JSON.stringify(pipelineJsonSchema(registry), null, 2)}\n`;
}
