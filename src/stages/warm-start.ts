import type { LayersModel } from '@tensorflow/tfjs-layers';
import { f, type Infer } from '../schema/fields.js';
import { hashPath } from '../core/hash/hash-path.js';
import { uncachedHasher } from '../core/hash/stat-cache.js';
import { modelInputProblem } from '../core/models/model-input.js';
import type { ConfigIssue, StageContext } from '../core/stage-kind.js';
import type { Tf } from '../ml/backend.js';
import type { DatasetMeta } from '../ml/dataset.js';
import { DataError } from '../ml/errors.js';
import { loadModel, type InitFrom } from '../ml/model-io.js';
import { checkSameData, copyWeights, freezeLayers, trainableLayers } from '../ml/warm-start.js';

/** The keys of a train stage's `with` block that start it from another model's weights; spread into its config. */
export const warmStartFields = {
  init_from: f.string('Warm start: begin from the weights of a registered model (NAME@ALIAS such as iris@production, NAME@VERSION, NAME for the newest) or of a run\'s model (a run id, RUN/STAGE when it has several) of the same architecture; its digest keys the stage, so promoting another version re-runs it.'),
  freeze: f.array('With init_from: layers kept fixed while training (trainable false), by name (dense_1, as the train log lists them) or 0-based position.', f.oneOf('A layer name or position.', [f.string('A layer name.'), f.int('A 0-based layer position.', { minimum: 0 })]), { minItems: 1 }),
};

/** What a train stage's warm start reads of its config. */
type WarmStartConfig = Infer<{ type: 'object'; properties: typeof warmStartFields }>;

/** Spec-time checks of `init_from` and `freeze`: the reference reads as one, and freeze comes with init_from. */
export function checkWarmStart(c: WarmStartConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const problem = c.init_from !== undefined ? modelInputProblem(c.init_from) : undefined;
  if (problem) issues.push({ path: ['init_from'], message: problem, hint: 'write NAME@ALIAS (iris@production), NAME@VERSION (iris@3), NAME, or a run id (r-7f3a…, r-7f3a…/train)' });
  if (c.freeze && c.init_from === undefined) issues.push({ path: ['freeze'], message: 'freeze keeps layers of the model init_from starts from; without init_from they would stay at their random initial weights', hint: 'add init_from: NAME@ALIAS, or remove freeze' });
  return issues;
}

/**
 * Starts `model` from the weights of `init_from`: resolves it (registry or run), checks its files
 * against the digest the stage was keyed on, its data and its architecture, copies the weights and
 * freezes the `freeze` layers. Returns what the model's metadata records.
 */
export async function warmStart(ctx: StageContext<WarmStartConfig>, tf: Tf, model: LayersModel, data: DatasetMeta): Promise<InitFrom> {
  const ref = ctx.config.init_from!;
  if (!ctx.resolveModelInput) throw new DataError(`init_from ${ref}: no model registry is at hand here to resolve it`, { hint: 'run the stage on the coordinator (it does so unless --executor queue sends it elsewhere)' });
  const input = await ctx.resolveModelInput(ref);
  const label = input.version !== undefined ? `${input.name} v${input.version}` : `run ${input.runId} (${input.stage})`;
  const digest = (await hashPath(input.dir, uncachedHasher)).digest;
  if (digest !== input.digest) throw new DataError(`init_from ${ref}: the files of ${label} in ${input.dir} changed since they were recorded (digest ${digest.slice(0, 12)}…, recorded ${input.digest.slice(0, 12)}…)`, { hint: 'restore them (re-run the pipeline that made them), or start from another version' });
  const { model: source, meta } = await loadModel(tf, input.dir);
  try {
    checkSameData(ref, meta, data);
    const copied = copyWeights(model, source, ref);
    ctx.log(`init_from: ${ref} → ${label}, digest ${input.digest.slice(0, 12)}…; ${copied.weights} weights of ${copied.layers} layers copied`);
  } finally {
    source.dispose();
  }
  const frozen = ctx.config.freeze ? freezeLayers(model, ctx.config.freeze) : [];
  ctx.log(`layers: ${trainableLayers(model).map((l, i) => `${i} ${l.name}${l.trainable ? '' : ' (frozen)'}`).join(', ')}`);
  const registered = input.name !== undefined && input.version !== undefined ? { registered: { name: input.name, version: input.version } } : {};
  return { ref, ...registered, producedBy: { run: input.runId, stage: input.stage }, digest: input.digest, frozen };
}
