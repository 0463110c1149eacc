import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import type { ModelLookup, Tracker } from '../tracker/types.js';
import { formatModelRef, parseModelRef } from './model-ref.js';

/** What resolving a model input needs of the tracker: registered versions, and the outputs runs recorded. */
export type ModelSource = ModelLookup & Pick<Tracker, 'findRunIds' | 'getArtifacts'>;

/** The key under which a model input's digest enters a stage's key material (beside its input files). */
export const MODEL_INPUT_PREFIX = 'model:';

/** The model a stage reads (a train stage's `init_from`), resolved: which files, and their digest. */
export interface ModelInput {
  /** As the spec wrote it: `iris@production`, `iris@3`, `r-7f3a…` or `r-7f3a…/train`. */
  ref: string;
  /** Registered name and version, for a registry reference. */
  name?: string;
  version?: number;
  /** The run that produced the files, and its stage. */
  runId: string;
  stage: string;
  /** Content digest of the model folder (the registered artifact hash, or the run's recorded output digest). */
  digest: string;
  /** The model folder. */
  dir: string;
}

/** A model input that resolves to nothing usable: the message says what exists and the hint what to do. */
export class ModelInputError extends UserError {
  constructor(
    readonly ref: string,
    reason: string,
    hint: string,
  ) {
    super(`model ${ref}: ${reason}`, { hint });
    this.name = 'ModelInputError';
  }
}

const RUN_REF = /^(r-[0-9a-f]{2,})(?:\/([A-Za-z0-9_.@-]+))?$/;

/** True when `ref` names a run (`r-…`, optionally `/STAGE`) rather than a registered model. */
export function isRunRef(ref: string): boolean {
  return RUN_REF.test(ref);
}

/** Checks the shape of a reference without a registry: undefined when it reads as a run or a model reference, else why not. */
export function modelInputProblem(ref: string): string | undefined {
  if (isRunRef(ref)) return undefined;
  try {
    parseModelRef(ref);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Resolves `NAME@ALIAS`, `NAME@VERSION`, `NAME` (the newest version) or a run id (`r-…`, a unique
 * prefix, optionally `/STAGE` when the run has several models) to the model folder and its digest.
 */
export async function resolveModelInput(source: ModelSource, runsDir: string, ref: string): Promise<ModelInput> {
  const run = RUN_REF.exec(ref);
  return run ? fromRun(source, runsDir, ref, run[1]!, run[2]) : fromRegistry(source, runsDir, ref);
}

async function fromRegistry(source: ModelSource, runsDir: string, text: string): Promise<ModelInput> {
  const ref = parseModelRef(text);
  const s = ref.selector;
  const found = await source.getModel(ref.name, s.kind === 'latest' ? undefined : s.kind === 'version' ? s.version : s.alias);
  if (!found) {
    const versions = await source.listModels(ref.name);
    const known = versions.length ? `${ref.name} has ${versions.map((v) => `v${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`).join(', ')}` : `no model named ${ref.name} is registered`;
    throw new ModelInputError(text, `no registered version matches ${formatModelRef(ref)}; ${known}`, 'register one with a deploy stage (mlpipe run), or list models with: mlpipe models list');
  }
  const dir = [join(runsDir, 'models', found.name, String(found.version)), resolve(runsDir, found.path)].find((d) => existsSync(d));
  if (!dir) throw new ModelInputError(text, `${found.name} v${found.version} is registered but its files are gone`, `re-run the pipeline that registered it (run ${found.runId})`);
  return { ref: text, name: found.name, version: found.version, runId: found.runId, stage: found.stage, digest: found.artifactHash, dir };
}

async function fromRun(source: ModelSource, runsDir: string, text: string, prefix: string, stage: string | undefined): Promise<ModelInput> {
  const ids = await source.findRunIds(prefix);
  if (ids.length !== 1) {
    throw new ModelInputError(text, ids.length === 0 ? `no run id starts with ${prefix}` : `${prefix} is the start of ${ids.length} run ids (${ids.slice(0, 4).join(', ')}${ids.length > 4 ? ', …' : ''})`, 'give more of the run id; list runs with: mlpipe runs list');
  }
  const runId = ids[0]!;
  const models = (await source.getArtifacts(runId)).filter((a) => a.name === 'model' && (stage === undefined || a.stage === stage));
  if (models.length !== 1) {
    const reason = models.length === 0 ? `run ${runId} recorded no model output${stage ? ` of a stage ${stage}` : ''}` : `run ${runId} has models from the stages ${models.map((a) => a.stage).join(', ')}`;
    throw new ModelInputError(text, reason, models.length === 0 ? `see what it recorded with: mlpipe runs show ${runId}` : `name one: ${runId}/${models[0]!.stage}`);
  }
  const a = models[0]!;
  const dir = [join(runsDir, runId, a.stage, a.name), a.path].find((d) => existsSync(d));
  if (!dir) throw new ModelInputError(text, `the model of run ${runId} (stage ${a.stage}) is no longer in its run folder`, `fetch it with: mlpipe runs get ${runId} ${a.stage}/model -o DIR, then register it, or re-run that pipeline`);
  return { ref: text, runId, stage: a.stage, digest: a.hash, dir };
}
