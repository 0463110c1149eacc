import { f, type ObjectField } from '../../schema/fields.js';

/** The lock file's format version; a file with another is not used (and `mlpipe run` rewrites it). */
export const LOCK_SCHEMA_VERSION = 1;

const digest = (what: string) => f.string(`The digest of ${what}: 64 lowercase hex digits.`, { pattern: '^[0-9a-f]{64}$' });

/** A file or folder the stage read, by its workspace-relative path. */
export const lockedDepField: ObjectField = f.object(
  'A file or folder the stage read.',
  {
    digest: digest('its content (BLAKE3 of a file; SHA-256 of a folder\'s sorted listing of paths and file hashes)'),
    size: f.int('Bytes in all (every file of a folder).', { minimum: 0 }),
    files: f.int('Files in a folder (absent for a file).', { minimum: 0 }),
  },
  { required: ['digest'] },
);

/** One declared output. */
export const lockedOutField: ObjectField = f.object(
  'An output the stage wrote.',
  {
    location: f.enum('Where it lives: `workspace` (a shell stage\'s outs, relative to the spec folder) or `stage` (inside the run folder).', ['workspace', 'stage']),
    path: f.string('Its path as declared.'),
    digest: digest('its content, as for deps'),
    size: f.int('Bytes in all.', { minimum: 0 }),
    files: f.int('Files in a folder (absent for a file).', { minimum: 0 }),
  },
  { required: ['location', 'path', 'digest', 'size'] },
);

/** What one stage's last completed execution was keyed on and produced. */
export const lockedStageField: ObjectField = f.object(
  'What produced one stage\'s outputs: everything its cache key was computed from, and what it wrote.',
  {
    kind: f.string('The stage kind (`shell`, `train`, …).'),
    version: f.int('The kind\'s implementation version.', { minimum: 0 }),
    key: digest('the stage\'s cache key (SHA-256 of the canonical JSON of kind, version, config, params, deps, upstream and declared outs)'),
    params: f.map('The params the stage used, with their values.', f.any('A param value.')),
    deps: f.map('Input files and folders by workspace-relative path.', lockedDepField),
    upstream: f.map('Digests of the upstream outputs it read, as `stage.output`.', digest('that output')),
    outs: f.map('Outputs by name.', lockedOutField),
    metrics: f.map('Final metrics it logged.', f.number('A metric value.')),
    config: f.map('The resolved stage config (`run`, `deps`, `outs`, `env`, … for shell stages; the `with:` block of built-in ones), output references kept symbolic.', f.any('A config value.')),
  },
  { required: ['kind', 'version', 'key', 'params', 'deps', 'upstream', 'outs', 'metrics', 'config'] },
);

/** The lock file beside a pipeline spec (`pipeline.yaml` → `pipeline.lock`). */
export const lockFileField: ObjectField = f.object(
  'mlpipe lock file: what produced the outputs of a pipeline, for git. Written by `mlpipe run`; not edited by hand.',
  {
    schemaVersion: f.int('The lock file format version.', { minimum: 1, maximum: LOCK_SCHEMA_VERSION }),
    pipeline: f.string('The pipeline\'s name.'),
    stages: f.map('Each stage\'s last completed execution, by stage name.', lockedStageField),
  },
  { required: ['schemaVersion', 'pipeline', 'stages'] },
);
