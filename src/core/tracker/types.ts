/**
 * The narrow interface every tracker implementation (SQLite now, PostgreSQL later) provides.
 * Times are epoch milliseconds; JSON columns are parsed objects here.
 */
export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'interrupted';

export interface RunRecord {
  id: string;
  pipeline: string;
  specPath: string;
  specHash: string;
  status: RunStatus;
  startedAt: number;
  endedAt?: number | null;
  params: Record<string, unknown>;
  gitCommit?: string | null;
  host: string;
  pid: number;
  backend?: string | null;
  sweepId?: string | null;
  error?: string | null;
}

export interface StageRunRecord {
  runId: string;
  stage: string;
  kind: string;
  status: StageStatus;
  cacheKey?: string | null;
  /** The run that produced the outputs when this stage was restored from cache. */
  cachedFrom?: string | null;
  reason?: string | null;
  startedAt?: number | null;
  endedAt?: number | null;
  durationMs?: number | null;
  error?: string | null;
  /** The parts the cache key was computed from (for `mlpipe status` diffs). */
  keyMaterial?: unknown;
}

export interface MetricPoint {
  runId: string;
  stage: string;
  key: string;
  /** null for a final value; the epoch/step index for a curve point. */
  step: number | null;
  value: number;
  time: number;
}

export interface ArtifactRecord {
  runId: string;
  stage: string;
  name: string;
  path: string;
  hash: string;
  size: number;
}

export interface ModelVersion {
  name: string;
  version: number;
  runId: string;
  stage: string;
  artifactHash: string;
  path: string;
  metrics: Record<string, number>;
  aliases: string[];
  createdAt: number;
}

export interface RunFilter {
  pipeline?: string;
  status?: RunStatus;
  limit?: number;
  sweepId?: string;
}

/** Model versions and aliases. Implemented by the tracker. */
export interface ModelRegistry {
  /** Registers a new version, or returns the existing one when this artifact hash is already registered under the name. */
  registerModel(m: Omit<ModelVersion, 'version' | 'aliases' | 'createdAt'> & { version?: number }): ModelVersion & { created: boolean };
  nextModelVersion(name: string): number;
  /** Moves an alias to a version; the previous holder is remembered for rollback. */
  setAlias(name: string, alias: string, version: number): void;
  /** Moves the alias back to its previous holder; returns the version it now points at. */
  rollbackAlias(name: string, alias: string): number | undefined;
  /** `ref` is a version number or an alias. */
  getModel(name: string, ref?: string | number): ModelVersion | undefined;
  listModels(name?: string): ModelVersion[];
}

export interface Tracker extends ModelRegistry {
  close(): void;
  /** Marks `running` runs of this host whose process is gone as `interrupted`; returns their ids. */
  markDeadRunsInterrupted(): string[];
  createRun(run: RunRecord): void;
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): void;
  /** Insert or replace by (runId, stage). */
  recordStageRun(s: StageRunRecord): void;
  /** Written in one transaction. */
  logMetrics(points: MetricPoint[]): void;
  recordArtifacts(artifacts: ArtifactRecord[]): void;
  getRun(id: string): RunRecord | undefined;
  /** Ids starting with `prefix` (for short, unambiguous ids). */
  findRunIds(prefix: string): string[];
  listRuns(filter?: RunFilter): RunRecord[];
  getStageRuns(runId: string): StageRunRecord[];
  getMetrics(runId: string): MetricPoint[];
  getArtifacts(runId: string): ArtifactRecord[];
  /** The newest stage run of `stage` in `pipeline` that completed (ran or restored) and has key material. */
  lastStageRun(pipeline: string, stage: string): StageRunRecord | undefined;
}
