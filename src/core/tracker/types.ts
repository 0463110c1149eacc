/**
 * The narrow interface every tracker implementation (SQLite, PostgreSQL) provides.
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
  /** A name given with `run --name`. */
  name?: string | null;
  /** A free-text note (`runs note`). */
  note?: string | null;
  /** Tags (`run --tag k=v`, `runs tag`). */
  tags?: Record<string, string>;
  /** The last time the run's process said it was alive (epoch ms); dead runs are found by it across hosts. */
  heartbeatAt?: number | null;
  /** Set when the run was deleted (`runs delete`, soft: `runs restore` brings it back). */
  deletedAt?: number | null;
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
  /** The stage ran again under a key that already had an entry, and its outputs differed from it. */
  nondeterministic?: NondeterministicOutputs | null;
}

/** What a re-run under an identical cache key produced differently (issue 15 item 14). */
export interface NondeterministicOutputs {
  /** The run whose entry was stored under the key before. */
  previousRunId: string;
  /** The output files whose content differed (`OUTPUT` or `OUTPUT/file` inside a folder output), added or removed ones included. */
  files: string[];
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
  /** The folder digest of the registered files: they are verified against it before they are loaded. */
  artifactHash: string;
  /** The version's folder, relative to the runs folder (`models/NAME/VERSION`); registrations before 2026-12 hold an absolute path. */
  path: string;
  metrics: Record<string, number>;
  aliases: string[];
  createdAt: number;
  /** What the version is (`deploy.description`, `models describe`); null when none was given. */
  description?: string | null;
}

export interface RunFilter {
  pipeline?: string;
  status?: RunStatus;
  limit?: number;
  sweepId?: string;
  /** Deleted runs are left out unless asked for ('include'), or listed alone ('only'). */
  deleted?: 'exclude' | 'include' | 'only';
  /**
   * A condition in the run-search language (run-filter.ts), run as SQL by the database:
   * `params.lr < 0.01 and (metrics.evaluate.accuracy >= 0.9 or tags.owner = 'ana')`.
   */
  where?: string;
  /** Free text: every word must appear in the run's id, name, pipeline, status, tags, params, errors… */
  search?: string;
  /** Ordering, e.g. `metrics.evaluate.accuracy desc, started_at`; missing values last; default newest first. */
  orderBy?: string;
  /** Skip this many runs (with `limit`: pages). */
  offset?: number;
}

/** The names a run filter can read, as the tracker holds them. */
export interface RunFields {
  /** Flattened param names (`model.units`), sorted. */
  params: string[];
  /** Final metric names `stage.key`, sorted. */
  metrics: string[];
  /** Tag keys, sorted. */
  tags: string[];
}

/** How {@link Tracker.markDeadRunsInterrupted} decides that a `running` run is dead. */
export interface DeadRunOptions {
  /**
   * A run of another host (or of this one whose process cannot be checked) is dead when its last
   * heartbeat is older than this. Default {@link DEFAULT_LEASE_MS}.
   */
  leaseMs?: number;
  /** The current time (tests). */
  now?: number;
}

/** How often a live run's heartbeat is written. */
export const HEARTBEAT_MS = 15_000;
/** A run whose heartbeat is older than this is taken for dead (eight missed heartbeats). */
export const DEFAULT_LEASE_MS = 120_000;

/** What registering a model version needs; the version is allocated by the registry unless given. */
export type NewModelVersion = Omit<ModelVersion, 'version' | 'aliases' | 'createdAt'> & { version?: number };
// A description given again when an artifact is registered again replaces the version's description.

/** Options of {@link ModelRegistry.registerModel}. */
export interface RegisterOptions {
  /** Moved to the registered version in the same transaction. */
  alias?: string;
  /**
   * Called inside the registration transaction with each candidate version (the next free one
   * first): returns the path the version's files now have, or undefined to skip that number (it is
   * taken on disk by something else). Used to export the files under the version's own folder.
   */
  claim?(version: number): Promise<string | undefined>;
}

/** Reading registered versions: what a deploy gate needs (`production.*` metrics). */
export interface ModelLookup {
  /** `ref` is a version number or an alias. */
  getModel(name: string, ref?: string | number): Promise<ModelVersion | undefined>;
  listModels(name?: string): Promise<ModelVersion[]>;
}

/** Model versions and aliases. Implemented by the tracker. */
export interface ModelRegistry extends ModelLookup {
  /**
   * Registers a new version (numbered without races: two registrations at once get two numbers), or
   * returns the existing one when this artifact hash is already registered under the name.
   */
  registerModel(m: NewModelVersion, opts?: RegisterOptions): Promise<ModelVersion & { created: boolean }>;
  /** Moves an alias to a version (one transaction); the previous holder is remembered for rollback. */
  setAlias(name: string, alias: string, version: number): Promise<void>;
  /** Moves the alias back to its previous holder; returns the version it now points at. */
  rollbackAlias(name: string, alias: string): Promise<number | undefined>;
  /**
   * Removes an alias; its history stays on record but no longer counts for a rollback (a later
   * `setAlias` starts afresh). Returns the version it pointed at, undefined when there was no such alias.
   */
  removeAlias(name: string, alias: string): Promise<number | undefined>;
  /** Sets (null: clears) a version's description; throws ModelVersionNotFoundError when there is no such version. */
  describeModel(name: string, version: number, description: string | null): Promise<void>;
}

/**
 * The experiment tracker. Every method is async so that a network database can implement it;
 * during a run only the run recorder (core/run/tracker-recorder.ts) writes run, stage, metric and
 * artifact rows.
 */
export interface Tracker extends ModelRegistry {
  /** Where the records live, for messages: a file path or a URL without its password. */
  readonly location: string;
  close(): Promise<void>;
  /**
   * Marks dead `running` runs as `interrupted` (their running and pending stages too); returns their
   * ids. A run of this host is dead when its process is gone; a run of another host when its
   * heartbeat is older than the lease.
   */
  markDeadRunsInterrupted(opts?: DeadRunOptions): Promise<string[]>;
  /** What a full consistency check of the records' database finds wrong (empty when sound); `mlpipe cache verify` runs it. */
  checkIntegrity(): Promise<string[]>;
  /** Says that a run's process is alive now. */
  heartbeat(runId: string, at?: number): Promise<void>;
  /** Sets tags of a run (a null value removes that tag). */
  setRunTags(runId: string, tags: Record<string, string | null>): Promise<void>;
  createRun(run: RunRecord): Promise<void>;
  /** Changes columns of a run (`tags` are set with {@link setRunTags}). */
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id' | 'tags'>>): Promise<void>;
  /** Insert or replace by (runId, stage). */
  recordStageRun(s: StageRunRecord): Promise<void>;
  /** Written in one transaction. */
  logMetrics(points: MetricPoint[]): Promise<void>;
  recordArtifacts(artifacts: ArtifactRecord[]): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Ids starting with `prefix` (for short, unambiguous ids). */
  findRunIds(prefix: string): Promise<string[]>;
  /**
   * Runs matching the filter, newest first unless `orderBy` says otherwise. A `where` or `orderBy`
   * that cannot be read, or that names a param, metric or tag no run has, throws RunFilterError.
   */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** How many runs the filter matches (its `limit` and `offset` ignored). */
  countRuns(filter?: RunFilter): Promise<number>;
  /** Every param, final metric and tag name the runs have. */
  runFields(): Promise<RunFields>;
  /** Final metric values (`stage.key` → value, the last one logged) of each run, one query. */
  getFinalMetrics(runIds: readonly string[]): Promise<Map<string, Record<string, number>>>;
  getStageRuns(runId: string): Promise<StageRunRecord[]>;
  getMetrics(runId: string): Promise<MetricPoint[]>;
  getArtifacts(runId: string): Promise<ArtifactRecord[]>;
  /** The newest stage run of `stage` in `pipeline` that completed (ran or restored) and has key material. */
  lastStageRun(pipeline: string, stage: string): Promise<StageRunRecord | undefined>;
}
