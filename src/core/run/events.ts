import type { Plan } from './plan-run.js';
import type { KeyMaterial } from '../cache/key.js';
import type { StageManifest } from '../cache/manifest.js';
import type { NondeterministicOutputs } from '../tracker/types.js';
import type { CacheReason } from '../cache/reasons.js';

export type StageOutcome = 'completed' | 'failed' | 'skipped' | 'interrupted';

/** Why a stage did not get to run or be restored. */
export type OutcomeReason =
  | { kind: 'upstream-not-completed'; stage: string; status: StageOutcome | 'not run' }
  | { kind: 'upstream-pruned'; stage: string; epoch: number }
  | { kind: 'interrupted-before-start' }
  | { kind: 'lookup-failed'; error: string };

/** Every reason a stage summary can give, as data (rendered by `src/render/reasons.ts`). */
export type StageReason = CacheReason | OutcomeReason;

/** Turns reasons into the one line the `reason` field and the tracker hold; given by the caller (the CLI renders). */
export type ExplainReasons = (reasons: readonly StageReason[]) => string;

export interface StageSummary {
  name: string;
  kind: string;
  status: StageOutcome;
  cached: boolean;
  cachedFrom?: string;
  /** `reasons` as one line of text (the `--json` contract's field). */
  reason: string;
  /** Why the stage was restored, run or left out, most telling first. */
  reasons: StageReason[];
  durationMs: number;
  metrics: Record<string, number>;
  error?: string;
  /** The last output lines of a failed stage. */
  lastLines?: string[];
  /** Output name → path (workspace-relative for shell outs, else inside the run folder). */
  outputs?: Record<string, string>;
  /** The compute backend a stage ran on, when it used one. */
  backend?: string;
  /** Set when the stage ran under a key that already had an entry and wrote different files (issue 15 item 14). */
  nondeterministic?: NondeterministicOutputs;
}

/** What the tracker records with a finished stage besides its summary. */
export interface StageRecord {
  key?: string;
  material?: KeyMaterial;
  manifest?: StageManifest;
}

/** What the runner tells its observers (progress UI, tracker, timing), in order. */
export type RunEvent =
  | { type: 'run-started'; runId: string; pipeline: string; plan: Plan; runDir: string }
  | { type: 'stage-started'; stage: string; kind: string; action: 'run' | 'restore'; reason: string; reasons: StageReason[] }
  | { type: 'stage-output'; stage: string; line: string }
  | { type: 'stage-progress'; stage: string; message: string }
  | { type: 'stage-metric'; stage: string; key: string; value: number; step: number | null }
  | { type: 'stage-finished'; stage: string; summary: StageSummary; record: StageRecord }
  | { type: 'run-finished'; runId: string; status: 'completed' | 'failed' | 'interrupted'; durationMs: number };

export interface RunObserver {
  onEvent(event: RunEvent): void;
}
