import { f, type Field, type ObjectField } from '../../schema/fields.js';
import type { StageKinds } from '../stage-kind.js';

/** Stage and param names: no dots, since `--set STAGE.key` and `${stages.X.outputs.Y}` split on them. */
export const NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_-]*$';

/** A stage as `needs` names it: a stage, a stage a template generated (`train@small`), or a template (all its stages). */
export const STAGE_REF_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_-]*(@[A-Za-z0-9_.+=,-]+)?$';

const templateList = (what: string) =>
  f.oneOf(what, [f.array('The values, one stage each.', f.any('A value: ${item} in the stage.')), f.string('${params.NAME} naming a list of the params.')]);

/** Keys that make a stage a template, expanded by templates.ts before the stages are checked. */
const templateKeys = {
  foreach: f.oneOf('Makes one stage per item (DVC foreach): a list (stages NAME@VALUE, or NAME@INDEX for non-scalar items), a mapping (NAME@KEY), or ${params.NAME}; the stage is under `do`.', [
    f.array('The items.', f.any('An item: ${item} in the stage.')),
    f.map('Items by key: ${key} and ${item} in the stage.', f.any('An item.')),
    f.string('${params.NAME} naming a list or mapping of the params.'),
  ]),
  do: f.map('The stage made for each item of `foreach`, with ${item} (and ${item.FIELD}) and ${key} substituted.', f.any('A stage key.')),
};

const commonStageKeys = {
  description: f.string('What the stage does, for people reading the spec.'),
  needs: f.array(
    'Stages that must finish first, besides those whose outputs this stage references; a template\'s name means all its stages.',
    f.string('A stage name.', { pattern: STAGE_REF_PATTERN }),
    { default: [] },
  ),
  cache: f.bool('Whether a stage with unchanged inputs is restored from the cache instead of run again.', { default: true }),
  frozen: f.bool(
    'Never run the stage: keep the outputs of its last completed run, whatever changed since (DVC frozen); stages below it key on those outputs. Not part of the cache key.',
    { default: false },
  ),
  retries: f.int('How many times a failed run of the stage is tried again before the run fails (not part of the cache key).', { minimum: 0, maximum: 10, default: 0 }),
  resources: f.object('What the stage needs from the machine it runs on; with `--executor queue` it goes to a worker that advertises it.', {
    labels: f.array(
      'Worker labels the stage needs (`mlpipe worker --label gpu`); a worker takes a stage when it has every label.',
      f.string('A worker label.', { pattern: '^[A-Za-z0-9_.-]+$' }),
      { default: [] },
    ),
  }),
  matrix: f.map(
    'Makes one stage per combination of these lists (DVC matrix), named NAME@V1-V2; ${item.KEY} is the combination\'s value of KEY and ${key} the part after @.',
    templateList('The values of one matrix axis: a list or ${params.NAME}.'),
  ),
};

/** A stage that uses a built-in kind, configured by `with`. */
export const usesStageField: ObjectField = f.object(
  'A stage run by a built-in kind, configured by its `with` block.',
  {
    uses: f.string('The built-in stage kind, e.g. preprocess, train, evaluate or deploy.'),
    with: f.map('The configuration of the stage kind named by `uses`.', f.any('A setting of the stage kind.'), { default: {} }),
    ...commonStageKeys,
  },
  { required: ['uses'] },
);

/** The stage forms of a pipeline, given the registered kinds (the `shell` kind's fields are a `run:` stage's keys). */
export interface StageForms {
  /** Keys of a `run:` stage that the loader moves into the stage's config (the shell kind's schema). */
  shellKeys: string[];
  uses: ObjectField;
  /** A shell stage: its `run`, `deps`, `outs`, `env` and `metrics` keys form the shell kind's config. */
  run: ObjectField;
  /**
   * The shape checked before interpolation: every key either stage form may have, each kind-specific
   * value left open (checked against the kind's own schema once params are substituted).
   */
  shape: ObjectField;
  /** `shape` plus the template keys (`foreach`/`do`): what a stage under `stages:` may be as written. */
  written: ObjectField;
  /** A `foreach` stage (for the JSON Schema). */
  foreach: ObjectField;
}

export function stageForms(kinds: StageKinds): StageForms {
  const shell: ObjectField = kinds.get('shell')?.config ?? f.object('No shell kind is registered.', {});
  const shellKeys = Object.keys(shell.properties);
  const shape = f.object('One pipeline stage: `uses` + `with`, or `run`.', {
    uses: usesStageField.properties.uses,
    with: usesStageField.properties.with,
    ...Object.fromEntries(shellKeys.map((k): [string, Field] => [k, f.any(shell.properties[k].description)])),
    ...commonStageKeys,
  });
  return {
    shellKeys,
    uses: usesStageField,
    run: f.object('A shell command, DVC style: its deps are hashed and its outs cached.', { ...shell.properties, ...commonStageKeys }, { required: ['run'] }),
    shape,
    written: f.object(shape.description, { ...shape.properties, ...templateKeys }),
    foreach: f.object('A template: one stage per item of `foreach`, each as `do` says.', templateKeys, { required: ['foreach', 'do'] }),
  };
}

/** The top level of a pipeline file. */
export function pipelineField(stage: Field): ObjectField {
  return f.object(
    'An mlpipe pipeline: stages run as a cached DAG, with parameters that the command line can override.',
    {
      name: f.string('The pipeline name that runs are recorded under; defaults to the name of the spec folder.', { pattern: NAME_PATTERN }),
      description: f.string('What the pipeline does.'),
      params: f.map(
        'Parameters with their defaults, used in stages as ${params.NAME}; `--params FILE` and `--set params.NAME=VALUE` override them.',
        f.any('A parameter default: a number, string, boolean, list or mapping.'),
        { keyPattern: NAME_PATTERN, default: {} },
      ),
      stages: f.map('The stages by name, run in dependency order.', stage, { keyPattern: NAME_PATTERN }),
      metrics: f.map(
        'Whether higher or lower is better for a metric (e.g. `val_loss: lower`), for comparisons; loss, error, mse, mae, rmse and log_loss are lower by default.',
        f.oneOf('The direction of a metric.', [
          f.enum('The direction of a metric.', ['higher', 'lower']),
          f.object('The direction of a metric.', { better: f.enum('Which way is better.', ['higher', 'lower']) }, { required: ['better'] }),
        ]),
        { default: {} },
      ),
    },
    { required: ['stages'] },
  );
}
