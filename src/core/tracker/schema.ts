/**
 * The tracker's tables as Kysely sees them: one logical schema for SQLite and PostgreSQL. Times are
 * epoch milliseconds (bigint), JSON columns are text. PostgreSQL tables also carry a `seq` identity
 * column for insertion order, which SQLite keeps in `rowid` (see migrations.ts).
 */
export interface TrackerDb {
  runs: RunsTable;
  stage_runs: StageRunsTable;
  metrics: MetricsTable;
  artifacts: ArtifactsTable;
  models: ModelsTable;
  model_aliases: ModelAliasesTable;
  alias_history: AliasHistoryTable;
  run_tags: RunTagsTable;
}

export interface RunsTable {
  id: string;
  pipeline: string;
  spec_path: string;
  spec_hash: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  params: string;
  git_commit: string | null;
  host: string;
  pid: number;
  backend: string | null;
  sweep_id: string | null;
  error: string | null;
  heartbeat_at: number | null;
  name: string | null;
  note: string | null;
  deleted_at: number | null;
}

export interface StageRunsTable {
  run_id: string;
  stage: string;
  kind: string;
  status: string;
  cache_key: string | null;
  cached_from: string | null;
  reason: string | null;
  started_at: number | null;
  ended_at: number | null;
  duration_ms: number | null;
  error: string | null;
  key_material: string | null;
  /** JSON {@link NondeterministicOutputs}, or null. */
  nondeterministic: string | null;
}

export interface MetricsTable {
  run_id: string;
  stage: string;
  key: string;
  step: number | null;
  value: number | null;
  time: number;
}

export interface ArtifactsTable {
  run_id: string;
  stage: string;
  name: string;
  path: string;
  hash: string;
  size: number;
}

export interface ModelsTable {
  name: string;
  version: number;
  run_id: string;
  stage: string;
  artifact_hash: string;
  path: string;
  metrics: string;
  created_at: number;
  description: string | null;
}

export interface ModelAliasesTable {
  name: string;
  alias: string;
  version: number;
  updated_at: number;
}

export interface AliasHistoryTable {
  /** Generated: omitted on insert. */
  id?: number;
  name: string;
  alias: string;
  version: number;
  set_at: number;
  rolled_back_at: number | null;
}

export interface RunTagsTable {
  run_id: string;
  key: string;
  value: string;
}
