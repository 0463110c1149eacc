import type { OutputManifest } from '../hash/path-manifest.js';
import type { StageManifest } from '../cache/manifest.js';
import type { NondeterministicOutputs } from '../tracker/types.js';
import type { OutputRef, StageSpec } from '../spec/types.js';
import type { StageKinds } from '../stage-kind.js';
import { StageFailedError } from '../../errors.js';

/** A stage as a job carries it: its resolved definition, without the kind's code (the worker has its own registry). */
export interface ShippedStage {
  name: string;
  kind: string;
  /** The kind's implementation version on the coordinator; a worker with another refuses the job (the key would differ). */
  version: number;
  config: Record<string, unknown>;
  needs: string[];
  refs: OutputRef[];
  inputs: string[];
  params: Record<string, unknown>;
  cache: boolean;
  retries: number;
  labels: string[];
}

/**
 * One stage execution handed to a worker (the BullMQ job's data). It carries everything the stage
 * reads by digest — each workspace input's file list and each upstream output's manifest — so a
 * worker with no shared disk and no checkout restores them from the remote cache.
 */
export interface StageJobData {
  schemaVersion: 1;
  runId: string;
  pipeline: string;
  /** The stage's cache key: the worker's result is stored under it (the first complete manifest wins). */
  key: string;
  /** Whether the manifest is published under `key` (false for `cache: false` stages). */
  publish: boolean;
  stage: ShippedStage;
  /** The direct upstream stages (their outputs' locations follow from kind and config). */
  upstreamStages: Record<string, Pick<ShippedStage, 'name' | 'kind' | 'version' | 'config'>>;
  /** Workspace-relative input path → its files by hash. */
  inputs: Record<string, OutputManifest>;
  /** The code files the stage's command runs (spec-relative path → its files by hash), restored beside the inputs. */
  code?: Record<string, OutputManifest>;
  /** `--force`: run even when a complete entry is under `key`, and replace it with this result. */
  force?: boolean;
  /** Upstream stage → output name → manifest. */
  upstream: Record<string, Record<string, OutputManifest>>;
  upstreamMetrics: Record<string, Record<string, number>>;
  backend: string;
  /** When the coordinator enqueued it (epoch ms), for the overhead figures. */
  enqueuedAt: number;
}

/** A metric point the stage logged, replayed by the coordinator when the job completes. */
export interface LoggedMetric {
  key: string;
  value: number;
  step: number | null;
}

/** What a worker returns for a completed job (the BullMQ job's return value). */
export interface StageJobResult {
  manifest: StageManifest;
  backend?: string;
  /** Every metric point of the attempt that completed, in order (none from an attempt that died). */
  metrics: LoggedMetric[];
  worker: string;
  /** true: another worker had completed the same key first; its manifest is returned and this one discarded. */
  duplicate: boolean;
  /** This attempt ran and wrote other files than the entry that stays under the key (issue 15 item 14). */
  nondeterministic?: NondeterministicOutputs;
  startedAt: number;
  finishedAt: number;
}

/** What a job's progress events carry: the live line of a stage, or its output lines. */
export type StageJobProgress = { worker: string; message?: string; lines?: string[] };

/** The BullMQ queue a stage with these labels goes to: one queue per label set. */
export function queueNameFor(labels: readonly string[]): string {
  return labels.length === 0 ? 'stages' : `stages.${[...labels].sort().join('+')}`;
}

/** Every queue a worker with these labels serves: one per subset of its labels (a stage needs all of its labels). */
export function queuesServedBy(labels: readonly string[]): string[] {
  const sorted = [...new Set(labels)].sort();
  const names: string[] = [];
  for (let mask = 0; mask < 1 << sorted.length; mask++) names.push(queueNameFor(sorted.filter((_, i) => mask & (1 << i))));
  return names;
}

export function shipStage(stage: StageSpec): ShippedStage {
  return {
    name: stage.name,
    kind: stage.kind,
    version: stage.impl.version,
    config: stage.config,
    needs: stage.needs,
    refs: stage.refs,
    inputs: stage.inputs,
    params: stage.params,
    cache: stage.cache,
    retries: stage.retries,
    labels: stage.labels,
  };
}

/** The stage spec a worker runs, its kind from the worker's own registry; a kind it lacks or has at another version fails the job. */
export function unshipStage(shipped: Pick<ShippedStage, 'name' | 'kind' | 'version' | 'config'> & Partial<ShippedStage>, kinds: StageKinds): StageSpec {
  const impl = kinds.get(shipped.kind);
  if (!impl) throw new StageFailedError(shipped.name, `this worker's mlpipe has no stage kind ${shipped.kind}`);
  if (impl.version !== shipped.version) {
    throw new StageFailedError(shipped.name, `this worker's mlpipe has ${shipped.kind} version ${impl.version}, the coordinator's ${shipped.version}; run the same mlpipe version on both`);
  }
  return {
    name: shipped.name,
    kind: shipped.kind,
    impl,
    config: shipped.config,
    needs: shipped.needs ?? [],
    refs: shipped.refs ?? [],
    inputs: shipped.inputs ?? [],
    params: shipped.params ?? {},
    cache: shipped.cache ?? true,
    retries: shipped.retries ?? 0,
    labels: shipped.labels ?? [],
    pos: { line: 0, col: 0 },
  };
}

/** A stage failure as it travels through BullMQ's `failedReason` (a string): message and last lines. */
export function encodeFailure(err: StageFailedError): string {
  return JSON.stringify({ mlpipeStageFailure: 1, stage: err.stage, message: err.message, exitCode: err.commandExitCode, lastLines: err.lastLines });
}

/** The stage failure a worker reported, or a plain one naming the worker's error. */
export function decodeFailure(stage: string, reason: string | undefined): StageFailedError {
  try {
    const v = JSON.parse(reason ?? '') as { mlpipeStageFailure?: number; message: string; exitCode?: number; lastLines?: string[] };
    if (v.mlpipeStageFailure === 1) return new StageFailedError(stage, v.message, { commandExitCode: v.exitCode, lastLines: v.lastLines ?? [] });
  } catch {
    // not one of ours: BullMQ's own reasons (a job stalled too often, a lock lost) are plain text
  }
  return new StageFailedError(stage, `stage ${stage} failed on a worker: ${reason ?? 'no reason given'}`);
}
