import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { OutputManifest } from '../hash/path-manifest.js';
import type { FileHasher } from '../hash/stat-cache.js';
import type { StageManifest } from '../cache/manifest.js';
import type { NondeterministicOutputs } from '../tracker/types.js';
import type { RunEvent } from './events.js';
import type { StageContext, StageKind, StageResult } from '../stage-kind.js';

/**
 * Where a stage's work happens. The local executor runs it in this process (shell stages spawn
 * their command); a remote one (a Kubernetes job or a queue worker running `mlpipe run --stage X`
 * against a shared cache) can implement the same call: plans, cache keys and records do not
 * depend on where a stage ran.
 */
export interface StageExecutor {
  readonly name: string;
  execute(kind: StageKind, ctx: StageContext): Promise<StageResult | void>;
}

export const localExecutor: StageExecutor = {
  name: 'local',
  execute: (kind, ctx) => kind.run(ctx),
};

/** What a dispatcher gets to run one stage elsewhere (`--executor queue`). */
export interface DispatchRequest {
  spec: PipelineSpec;
  stage: StageSpec;
  runId: string;
  key: string;
  /** The outputs of the finished upstream stages of this run. */
  produced: (stage: string) => Record<string, OutputManifest> | undefined;
  upstreamMetrics: Record<string, Record<string, number>>;
  backend: string;
  /** `--force`: the worker runs the stage even when an entry is under its key, and its result replaces that entry. */
  force?: boolean;
  /** The code files the stage's command runs (spec-relative, from the `code:PATH` inputs it was keyed on): the job carries them like inputs. */
  code: string[];
  /** Hashes the workspace inputs the stage reads (the stat cache). */
  hasher: FileHasher;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
}

/**
 * Runs whole stages on other machines: the queue coordinator's side of `--executor queue`. It
 * returns the manifest of the outputs, which are then in the cache the run restores from; the
 * runner records the stage as it would a local one.
 */
export interface StageDispatcher {
  readonly name: string;
  /** Why this stage must run here instead (e.g. it registers models), or undefined when it can be dispatched. */
  runsLocally(stage: StageSpec): string | undefined;
  dispatch(request: DispatchRequest): Promise<{ manifest: StageManifest; backend?: string; nondeterministic?: NondeterministicOutputs }>;
}
