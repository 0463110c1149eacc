import type { Diagnostic, SourcePos } from '../../schema/diagnostic.js';
import type { StageKind, StageKinds, TrialControl } from '../stage-kind.js';
import type { TextAnchor } from './text-anchor.js';

/** A reference `${stages.X.outputs.Y}` found in a stage's config. */
export interface OutputRef {
  stage: string;
  output: string;
}

/**
 * One stage after loading: validated, defaults applied, `${params.x}` substituted.
 * `${stages.X.outputs.Y}` references are kept as written inside strings: they are replaced by real
 * paths only when the stage executes (`substituteOutputRefs`), so cache keys never see run folders.
 */
export interface StageSpec {
  name: string;
  /** A built-in kind (`preprocess`, `train`, …) or `shell` for `run:` stages. */
  kind: string;
  /** The kind's definition, from the registry the loader was given. */
  impl: StageKind;
  /** The `with` block (for shell: `{ run, deps, outs, env, metrics }`), defaults applied. Paths as written. */
  config: Record<string, unknown>;
  /** Direct upstream stages: from output references, `needs`, and shell deps that are another stage's outs. */
  needs: string[];
  refs: OutputRef[];
  /** Input files/folders read by the stage (path fields and shell deps), POSIX paths relative to the spec folder (`../data/x` inside the project root), or absolute; excluding upstream outputs. */
  inputs: string[];
  /** The params this stage's config used, with their values (for "param lr 0.001 → 0.01" reasons). */
  params: Record<string, unknown>;
  cache: boolean;
  /** `frozen: true`: never runs; the outputs of its last completed run are kept (restored). */
  frozen?: boolean;
  /** `retries:` how many more times a failed stage is tried (default 0). */
  retries: number;
  /** `resources.labels:` the worker labels the stage needs on a queue (sorted, unique). */
  labels: string[];
  pos: SourcePos;
  /** Where each of the kind's `sql` keys' text starts in the spec (see {@link TextAnchor}). */
  anchors?: Record<string, TextAnchor>;
  /**
   * Set on the train stage of a trial of a model-based search (`run --search asha`, never by the
   * loader): `identity` (the search's settings and the trials before this one) joins the stage's
   * cache key, since where the trial stops depends on it; `control` is handed to the stage.
   */
  search?: { identity: Record<string, unknown>; control: TrialControl };
}

export interface PipelineSpec {
  name: string;
  /** Absolute path of the spec file. */
  file: string;
  /** The spec's folder: the workspace relative paths resolve against. */
  dir: string;
  /**
   * The project root (the folder holding mlpipe.yaml, else the git root, else `dir`): relative paths
   * may lead out of `dir` (`../data`) but not out of it.
   */
  root: string;
  /** Effective params: spec defaults < --params file < --set. */
  params: Record<string, unknown>;
  stages: Record<string, StageSpec>;
  /** Stage names in a deterministic topological order (ties broken by spec order). */
  order: string[];
  /** SHA-256 of the spec file bytes. */
  specHash: string;
  /** The registry the spec was loaded with. */
  kinds: StageKinds;
  /** `foreach`/`matrix` templates by name → the stages they generated (`train` → `train@a`, `train@b`); `--stage train` selects them all. */
  groups?: Record<string, string[]>;
}

export interface LoadOptions {
  /** The stage kinds a spec may use (`src/stages/index.ts` in the CLI; literal kinds in tests). */
  kinds: StageKinds;
  /** `--set key=value` items, applied last. `params.lr=0.01` or `<stage>.<with key path>=value`. Values parsed as YAML scalars. */
  set?: string[];
  /** `--params FILE` (YAML or JSON object of params). */
  paramsFile?: string;
  /** The project root; by default found from the spec's folder (`findProjectRoot`). */
  root?: string;
}

export type LoadResult =
  | { ok: true; spec: PipelineSpec; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };
