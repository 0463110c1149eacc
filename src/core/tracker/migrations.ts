import type { Database } from 'better-sqlite3';

/**
 * The tracker schema as ordered steps. Step `i` moves a database from `user_version` i to i + 1.
 * Append new steps; never edit a released one. The SQL is plain enough to port to PostgreSQL.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    params TEXT NOT NULL DEFAULT '{}',
    git_commit TEXT,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    backend TEXT,
    sweep_id TEXT,
    error TEXT
  );
  CREATE INDEX runs_pipeline_started ON runs (pipeline, started_at);
  CREATE INDEX runs_started ON runs (started_at);
  CREATE INDEX runs_status_host ON runs (status, host);
  CREATE INDEX runs_sweep ON runs (sweep_id);

  CREATE TABLE stage_runs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    cache_key TEXT,
    cached_from TEXT,
    reason TEXT,
    started_at INTEGER,
    ended_at INTEGER,
    duration_ms INTEGER,
    error TEXT,
    key_material TEXT,
    PRIMARY KEY (run_id, stage)
  );
  CREATE INDEX stage_runs_stage ON stage_runs (stage);
  CREATE INDEX stage_runs_cache_key ON stage_runs (cache_key);

  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    key TEXT NOT NULL,
    step INTEGER,
    value REAL,
    time INTEGER NOT NULL
  );
  CREATE INDEX metrics_run ON metrics (run_id);

  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (run_id, stage, name)
  );
  CREATE INDEX artifacts_hash ON artifacts (hash);

  CREATE TABLE models (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    artifact_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  );
  CREATE INDEX models_artifact_hash ON models (artifact_hash);

  CREATE TABLE model_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES models (name, version)
  );

  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    set_at INTEGER NOT NULL,
    rolled_back_at INTEGER
  );
  CREATE INDEX alias_history_name_alias ON alias_history (name, alias);
  `,
];

/** The database was written by a newer mlpipe whose schema this one does not know. */
export class TrackerSchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`tracker schema version ${found} is newer than this mlpipe understands (${known}); upgrade mlpipe to read this runs folder`);
    this.name = 'TrackerSchemaTooNewError';
  }
}

/** Runs a function inside one write (BEGIN IMMEDIATE) transaction, retrying on SQLITE_BUSY. */
export type WriteTransaction = <T>(fn: () => T) => T | Promise<T>;

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema to the latest version. Idempotent; when several processes open a fresh
 * database at once, the version is re-read inside the write lock so each step runs exactly once.
 * Returns the schema version now in place.
 */
export async function applyMigrations(db: Database, write: WriteTransaction, steps: readonly string[] = MIGRATIONS): Promise<number> {
  const check = (version: number): boolean => {
    if (version > steps.length) throw new TrackerSchemaTooNewError(version, steps.length);
    return version < steps.length;
  };
  if (!check(userVersion(db))) return steps.length;
  return write(() => {
    const current = userVersion(db);
    if (!check(current)) return steps.length;
    for (let i = current; i < steps.length; i++) db.exec(steps[i]!);
    db.pragma(`user_version = ${steps.length}`);
    return steps.length;
  });
}
