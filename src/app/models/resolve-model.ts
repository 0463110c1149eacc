import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { MODEL_FILES } from '../../ml/model-io.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import type { ModelLookup, ModelVersion } from '../../core/tracker/types.js';
import { formatModelRef, type ModelRef } from './model-ref.js';
import { verifyModelFiles } from './verify-model.js';
import { fetchModelFiles, type ModelFetchSource, type RemoteOpener } from './fetch-model-files.js';

const MAX_LISTED = 12;

/** A model reference that matches no registered version; the message lists what is registered. */
export class ModelNotFoundError extends UserError {
  constructor(
    readonly ref: string,
    known: string,
  ) {
    super(`no registered model matches "${ref}": ${known}`, { hint: 'list models with: mlpipe models list' });
    this.name = 'ModelNotFoundError';
  }
}

/** A registered version whose exported folder is gone from disk. */
export class ModelFilesMissingError extends UserError {
  constructor(
    readonly model: ModelVersion,
    tried: string[],
  ) {
    super(`${model.name} v${model.version} is registered but its files are missing (looked in ${tried.join(' and ')})`, {
      hint: `re-run the pipeline that registered it (run ${model.runId}) to export it again`,
    });
    this.name = 'ModelFilesMissingError';
  }
}

/** A registered version whose files are not a model mlpipe can load (a shell stage's own format): serve and predict refuse it. */
export class NotAnMlpipeModelError extends UserError {
  constructor(
    readonly model: ModelVersion,
    readonly dir: string,
  ) {
    super(`${model.name} v${model.version} is registered, but its files in ${dir} are not a model mlpipe can load (no ${MODEL_FILES.topology} and ${MODEL_FILES.meta}, which the train stage writes)`, {
      hint: `mlpipe serve and predict load models written by the train stage; load these files with the code that wrote them (mlpipe models show ${model.name}@${model.version} lists them)`,
    });
    this.name = 'NotAnMlpipeModelError';
  }
}

/** True when `dir` holds a model mlpipe's train stage wrote (topology and metadata), which serve and predict can load. */
export function isMlpipeModel(dir: string): boolean {
  return existsSync(join(dir, MODEL_FILES.topology)) && existsSync(join(dir, MODEL_FILES.meta));
}

/** `v3 (production, staging)`. */
export function describeVersion(m: Pick<ModelVersion, 'version' | 'aliases'>): string {
  return `v${m.version}${m.aliases.length ? ` (${m.aliases.join(', ')})` : ''}`;
}

async function knownModels(registry: ModelLookup, ref: ModelRef): Promise<string> {
  const versions = await registry.listModels(ref.name);
  if (versions.length > 0) {
    const shown = versions.slice(0, MAX_LISTED).map(describeVersion).join(', ');
    const more = versions.length > MAX_LISTED ? `, and ${versions.length - MAX_LISTED} older` : '';
    return `${ref.name} has ${shown}${more}`;
  }
  const names = [...new Set((await registry.listModels()).map((m) => m.name))].sort();
  if (names.length === 0) return 'no model is registered yet; a pipeline\'s deploy stage registers one (mlpipe run pipeline.yaml)';
  return `there is no model named ${ref.name}; registered: ${names.slice(0, MAX_LISTED).join(', ')}${names.length > MAX_LISTED ? ', …' : ''}`;
}

/** The registered version a reference points at, or a {@link ModelNotFoundError} listing what exists. */
export async function resolveModel(registry: ModelLookup, ref: ModelRef): Promise<ModelVersion> {
  const s = ref.selector;
  const found = s.kind === 'latest' ? await registry.getModel(ref.name) : await registry.getModel(ref.name, s.kind === 'version' ? s.version : s.alias);
  if (!found) throw new ModelNotFoundError(formatModelRef(ref), await knownModels(registry, ref));
  return found;
}

/**
 * The folder (or file) holding a version's files: `<runsDir>/models/NAME/VERSION` (the runs folder's
 * own copy, also when the folder was copied or moved), else its registered path (relative to the runs
 * folder; older registrations hold an absolute one). Any files count: a model registered from a shell
 * stage has its own format. Not verified: see {@link locateVerifiedModel}.
 */
export function modelDir(runsDir: string, model: ModelVersion): string {
  const candidates = [...new Set([join(runsDir, 'models', model.name, String(model.version)), resolve(runsDir, model.path)])];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new ModelFilesMissingError(model, candidates);
  return found;
}

/**
 * Resolves a reference in a runs folder's registry and finds the version's files, verified against
 * its digest (the tracker is closed again); files registered on another machine are fetched from
 * the run's cache entry, locally or through `remote` ({@link fetchModelFiles}).
 */
export async function locateModel(runsDir: string, ref: ModelRef, remote?: RemoteOpener): Promise<{ model: ModelVersion; dir: string }> {
  const tracker = await openExistingTracker(runsDir);
  try {
    const model = await resolveModel(tracker, ref);
    return { model, dir: await locateVerifiedModel(runsDir, model, { tracker, remote }) };
  } finally {
    await tracker.close();
  }
}

/**
 * {@link modelDir} of a model serve and predict can load, with its files checked against the
 * registered digest ({@link verifyModelFiles}). With `fetch`, a version whose files are not on
 * this machine gets them from its run's cache entry first ({@link fetchModelFiles}).
 */
export async function locateVerifiedModel(runsDir: string, model: ModelVersion, fetch?: ModelFetchSource): Promise<string> {
  let dir: string;
  try {
    dir = modelDir(runsDir, model);
  } catch (err) {
    if (!(err instanceof ModelFilesMissingError) || !fetch) throw err;
    await fetchModelFiles(runsDir, model, fetch);
    dir = modelDir(runsDir, model);
  }
  await verifyModelFiles(runsDir, model, dir);
  if (!isMlpipeModel(dir)) throw new NotAnMlpipeModelError(model, dir);
  return dir;
}
