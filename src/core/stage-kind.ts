import type { ObjectField } from '../schema/fields.js';
import type { ModelLookup } from './tracker/types.js';
import type { ModelInput } from './models/model-input.js';
import type { CodeEntry } from './code-deps/entries.js';

/** Where a declared output lives: inside the stage's run folder, or at a path in the workspace (shell `outs`). */
export interface OutputSpec {
  /** Relative to the stage folder (`runs/<run>/<stage>/`) for 'stage'; relative to the workspace for 'workspace'. */
  path: string;
  location: 'stage' | 'workspace';
  /** A workspace output left in place while the stage runs (a checkpoint it resumes from), not deleted first. */
  persist?: boolean;
}

/** What a running stage may use. Paths in `config` are absolute by the time `run` sees them. */
export interface StageContext<C = Record<string, unknown>> {
  /** The stage's name in the spec, e.g. `train`. */
  stage: string;
  /** The resolved `with` block: defaults applied, params and upstream outputs substituted, paths absolute. */
  config: C;
  /** Where the stage runs: the spec's folder, or the kind's `workdir` inside it (a shell stage's `wdir`). Relative paths of `config` were resolved against it. */
  workspace: string;
  /** A fresh temporary folder; write each 'stage' output at `join(outDir, spec.path)`. Renamed into place only on success. */
  outDir: string;
  /** Absolute paths where each declared output is being written (inside outDir, or in the workspace). */
  outputs: Record<string, string>;
  runId: string;
  runsDir: string;
  signal: AbortSignal;
  /** One line of output (kept; the last lines are shown when the stage fails). */
  log(line: string): void;
  /** The live status line of the stage, e.g. `epoch 3/10 loss 0.412 val_acc 0.87`. */
  progress(message: string): void;
  /**
   * `file:line:col` of a node of this stage's config in the spec (`['plots', 0]`), for errors found
   * while the stage runs; undefined where the spec file is not at hand (a queue worker).
   */
  specNode?(path: readonly (string | number)[]): string | undefined;
  /** A metric point; per-epoch points carry `step`. Batched into the tracker. */
  logMetric(key: string, value: number, step?: number): void;
  /** Final metrics of the stages this one depends on (directly or not), by stage name. */
  upstreamMetrics: Record<string, Record<string, number>>;
  /** Registered model versions, read-only (a deploy gate reads `production.*`); registering is the runner's job (see {@link StageResult.register}). */
  models: ModelLookup;
  /** Where the kind's `sql` keys start in the spec file, to point an engine's error at its spec line; absent on a queue worker. */
  source?: { file: string; anchors: Record<string, TextAnchor> };
  /** The `--backend` choice (`auto`, `wasm`, …), passed through to the ML layer, which checks it. */
  backend: string;
  /** Resolves one of the kind's {@link StageKind.modelRefs} to its folder and digest; absent where no registry is at hand (a queue worker). */
  resolveModelInput?(ref: string): Promise<ModelInput>;
  /** Set when the stage is a trial of a model-based search (`run --search asha`): told each epoch's metrics, it may stop training early. */
  trial?: TrialControl;
}

/**
 * What a search (core/run/asha-search.ts) gives the train stage of one trial: each finished epoch's
 * metrics go to it, and it answers whether training goes on ('stop': the trial is pruned). It may
 * wait for other trials before answering.
 */
export interface TrialControl {
  /** `final`: the last epoch (its value is recorded, no decision is taken). */
  epochEnded(epoch: number, metrics: Readonly<Record<string, number>>, final: boolean): Promise<'continue' | 'stop'>;
  /** The metrics the stage adds to its result: what the search needs to judge the other trials again when this one is restored from the cache. */
  resultMetrics(): Record<string, number>;
}

export interface StageResult {
  /** Final metrics of this stage (e.g. accuracy); logged without a step and shown in summaries. */
  metrics?: Record<string, number>;
  /** The compute backend the stage ran on, when it used one. */
  backend?: string;
  /**
   * A model to register (the deploy stage's result). The runner exports and registers it, moves the
   * alias, writes the record file, and adds the registered `version` to the stage's metrics.
   */
  register?: ModelRegistrationRequest;
}

/** What a stage asks the runner to register in the model registry. */
export interface ModelRegistrationRequest {
  name: string;
  /** The model folder, exported to `runs/models/NAME/VERSION/`. */
  source: string;
  /** Content digest of `source`: the same artifact registered again reuses its version. */
  artifactHash: string;
  metrics: Record<string, number>;
  /** Moved to the registered version in the same transaction. */
  alias?: string;
  /** The version's description (`deploy.description`). */
  description?: string;
  /** Where to write what was registered (canonical JSON), with `extra` fields beside it. */
  record?: { path: string; extra?: Record<string, unknown> };
}

/**
 * One built-in stage kind. `src/stages/index.ts` is the registry, handed to the loader (and through the
 * loaded spec to the planner and runner); the runner knows nothing else
 * about a kind than this definition.
 */
export interface StageKind<C = any> {
  kind: string;
  /** Bump when the behaviour changes: it is part of every cache key of this kind. */
  version: number;
  description: string;
  /** The schema of the stage's `with` block. */
  config: ObjectField;
  /**
   * Top-level config keys that hold `sh` command lines, one or a list (the shell kind's `run`): params and output
   * paths spliced into them are quoted for the spot they land in, so they never add shell syntax.
   */
  commands?: readonly string[];
  /**
   * Top-level config keys that hold SQL text (the sql kind's `query`): a param spliced in lands as a SQL
   * literal, so it never adds SQL syntax (`${raw.params.x}` pastes text); the stage gets where each starts in the spec ({@link StageContext.source}).
   */
  sql?: readonly string[];
  /**
   * The folder, relative to the spec's, that a stage of this kind runs in and whose relative path
   * fields are relative to (the shell kind's `wdir`); the spec's folder when absent or undefined.
   */
  workdir?(config: C): string | undefined;
  /** The outputs a stage of this kind declares, given its resolved config (workspace paths relative to the spec folder). */
  outputs(config: C): Record<string, OutputSpec>;
  /** false: never cached, always runs (e.g. a side effect that must happen each time). Default true. */
  cache?: boolean;
  /**
   * true: always runs in the process that records the run, never on a queue worker (`--executor
   * queue`): the stage reads the model registry or asks the runner to register a model (deploy).
   */
  coordinatorOnly?: boolean;
  /**
   * Stage kinds a stage of this kind starts after, when the spec has them and they do not depend on
   * it (deploy waits for every evaluate stage: its gate reads their metrics). Returns [] to opt out.
   */
  waitsFor?(config: C): string[];
  /**
   * Models the stage reads by reference (`NAME@ALIAS`, `NAME@VERSION`, a run id: a train stage's
   * `init_from`): each is resolved when the stage is planned and its digest keys the stage, so
   * moving the alias re-runs it. Such a stage runs on the coordinator (it reads the registry).
   */
  modelRefs?(config: C): string[];
  /**
   * The programs a stage of this kind runs from the project's files (a shell command's `node a.mjs`,
   * `python -m pkg.mod`): each, with the local modules it imports transitively, keys the stage (as
   * `code:PATH` inputs), and an isolated stage or a queue worker gets those files too. Relative to
   * the kind's {@link workdir}.
   */
  codeEntries?(config: C): CodeEntry[];
  /** Checks that need more than the schema (e.g. a gate expression parses); run when the spec loads. */
  check?(config: C): ConfigIssue[];
  run(ctx: StageContext<C>): Promise<StageResult | void>;
  /**
   * Clears up what a killed run left behind for this kind (e.g. shell commands still running);
   * called before a run starts. Returns one message per thing it cleared.
   */
  recover?(runsDir: string, opts?: RecoverOptions): Promise<string[]>;
}

/** What {@link StageKind.recover} knows besides the runs folder. */
export interface RecoverOptions {
  /** Runs known to be dead (their mlpipe released its kernel lock) even where their pid still answers (a zombie). */
  deadRuns?: ReadonlySet<string>;
}

/** A problem with a stage's config found by its kind's `check`, at a path inside `with`. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** Stage kinds by the name a spec's `uses:` gives (and `shell` for `run:` stages). */
export type StageKinds = ReadonlyMap<string, StageKind>;

/**
 * Where a string value's text starts in the spec, so a position inside the text (line, column)
 * can be shown as a spec position: `block` for a literal block (`|`), whose lines are the spec's lines
 * below the indicator at one indentation; `inline` for a one-line plain or quoted value; `node` where
 * the text's lines do not map onto the spec's (a folded `>` block, a multi-line flow scalar): there
 * only the value's own position is known.
 */
export interface TextAnchor {
  line: number;
  col: number;
  style: 'block' | 'inline' | 'node';
}
