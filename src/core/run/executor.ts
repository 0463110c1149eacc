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
