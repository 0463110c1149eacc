import type { ModelRegistry } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';
import type { ModelRef } from './model-ref.js';
import { resolveModel } from './resolve-model.js';

/** The longest description kept (a paragraph, not a document). */
export const MAX_DESCRIPTION = 4096;

/** What `models describe` did. */
export interface ModelDescription {
  schemaVersion: 1;
  name: string;
  version: number;
  /** The description now; null when it was cleared. */
  description: string | null;
  /** What it was before. */
  previous: string | null;
}

/** Sets the description of the version `ref` names (a version, an alias's holder or the newest); empty text clears it. */
export async function describeModelVersion(registry: ModelRegistry, ref: ModelRef, text: string): Promise<ModelDescription> {
  const description = text.trim() === '' ? null : text.trim();
  if (description !== null && description.length > MAX_DESCRIPTION) {
    throw new UserError(`a model description holds at most ${MAX_DESCRIPTION} characters, got ${description.length}`, { hint: 'keep the details in a file beside the pipeline and describe the version in a paragraph' });
  }
  const model = await resolveModel(registry, ref);
  await registry.describeModel(model.name, model.version, description);
  return { schemaVersion: 1, name: model.name, version: model.version, description, previous: model.description ?? null };
}
