import { UserError } from '../../errors.js';
import type { Kysely } from 'kysely';

/** The SQL dialects a tracker runs on. */
export type SqlDialectName = 'sqlite' | 'postgresql';

/**
 * One step of the tracker schema, written once with Kysely's schema builder and rendered for each
 * dialect. Step `i` moves a database from schema version i to i + 1. Append new steps; never edit a
 * released one (SQLite databases at version 1 were created by the same tables in plain SQL).
 */
export interface Migration {
  name: string;
  up(db: Kysely<any>, dialect: SqlDialectName): Promise<void>;
}

/** Insertion order: SQLite keeps it in `rowid`; PostgreSQL tables get an identity column `seq`. */
function insertionOrder<T extends { addColumn: (...a: any[]) => T }>(table: T, dialect: SqlDialectName): T {
  return dialect === 'postgresql' ? table.addColumn('seq', 'bigint', (c: any) => c.generatedByDefaultAsIdentity()) : table;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'runs, stage runs, metrics, artifacts and the model registry',
    async up(db, dialect) {
      await insertionOrder(
        db.schema
          .createTable('runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('pipeline', 'text', (c) => c.notNull())
          .addColumn('spec_path', 'text', (c) => c.notNull())
          .addColumn('spec_hash', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('git_commit', 'text')
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('backend', 'text')
          .addColumn('sweep_id', 'text')
          .addColumn('error', 'text'),
        dialect,
      ).execute();
      await db.schema.createIndex('runs_pipeline_started').on('runs').columns(['pipeline', 'started_at']).execute();
      await db.schema.createIndex('runs_started').on('runs').column('started_at').execute();
      await db.schema.createIndex('runs_status_host').on('runs').columns(['status', 'host']).execute();
      await db.schema.createIndex('runs_sweep').on('runs').column('sweep_id').execute();

      await insertionOrder(
        db.schema
          .createTable('stage_runs')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('cache_key', 'text')
          .addColumn('cached_from', 'text')
          .addColumn('reason', 'text')
          .addColumn('started_at', 'bigint')
          .addColumn('ended_at', 'bigint')
          .addColumn('duration_ms', 'bigint')
          .addColumn('error', 'text')
          .addColumn('key_material', 'text')
          .addPrimaryKeyConstraint('stage_runs_pk', ['run_id', 'stage']),
        dialect,
      ).execute();
      await db.schema.createIndex('stage_runs_stage').on('stage_runs').column('stage').execute();
      await db.schema.createIndex('stage_runs_cache_key').on('stage_runs').column('cache_key').execute();

      await insertionOrder(
        db.schema
          .createTable('metrics')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('step', 'integer')
          .addColumn('value', 'double precision')
          .addColumn('time', 'bigint', (c) => c.notNull()),
        dialect,
      ).execute();
      await db.schema.createIndex('metrics_run').on('metrics').column('run_id').execute();

      await insertionOrder(
        db.schema
          .createTable('artifacts')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('artifacts_pk', ['run_id', 'stage', 'name']),
        dialect,
      ).execute();
      await db.schema.createIndex('artifacts_hash').on('artifacts').column('hash').execute();

      await db.schema
        .createTable('models')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('artifact_hash', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('models_pk', ['name', 'version'])
        .execute();
      await db.schema.createIndex('models_artifact_hash').on('models').column('artifact_hash').execute();

      await db.schema
        .createTable('model_aliases')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_aliases_pk', ['name', 'alias'])
        .addForeignKeyConstraint('model_aliases_version', ['name', 'version'], 'models', ['name', 'version'])
        .execute();

      await db.schema
        .createTable('alias_history')
        .addColumn('id', dialect === 'postgresql' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgresql' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('set_at', 'bigint', (c) => c.notNull())
        .addColumn('rolled_back_at', 'bigint')
        .execute();
      await db.schema.createIndex('alias_history_name_alias').on('alias_history').columns(['name', 'alias']).execute();
    },
  },
  {
    name: 'run heartbeats (dead runs are found across hosts)',
    async up(db) {
      await db.schema.alterTable('runs').addColumn('heartbeat_at', 'bigint').execute();
    },
  },
  {
    name: 'run names, notes, tags and soft delete',
    async up(db) {
      for (const column of ['name', 'note'] as const) await db.schema.alterTable('runs').addColumn(column, 'text').execute();
      await db.schema.alterTable('runs').addColumn('deleted_at', 'bigint').execute();
      await db.schema
        .createTable('run_tags')
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_tags_pk', ['run_id', 'key'])
        .execute();
      await db.schema.createIndex('run_tags_key_value').on('run_tags').columns(['key', 'value']).execute();
    },
  },
  {
    name: 'stage runs: outputs that differed from the entry stored under the same cache key (nondeterminism)',
    async up(db) {
      await db.schema.alterTable('stage_runs').addColumn('nondeterministic', 'text').execute();
    },
  },
  {
    name: 'model version descriptions',
    async up(db) {
      await db.schema.alterTable('models').addColumn('description', 'text').execute();
    },
  },
];

/** The database was written by a newer mlpipe whose schema this one does not know. */
export class TrackerSchemaTooNewError extends UserError {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`tracker schema version ${found} is newer than this mlpipe understands (${known}); upgrade mlpipe to read this tracker`);
    this.name = 'TrackerSchemaTooNewError';
  }
}

/** Where a dialect keeps the schema version, and how it serializes migrations between processes. */
export interface SchemaVersioning {
  /** The version in place (0: no tracker schema yet). */
  read(db: Kysely<any>): Promise<number>;
  /** Runs `fn` in one write transaction that no other migrating process runs beside. */
  exclusive<T>(db: Kysely<any>, fn: (trx: Kysely<any>) => Promise<T>): Promise<T>;
  write(trx: Kysely<any>, version: number): Promise<void>;
}

/**
 * Brings the schema to the latest version. Idempotent; when several processes open a fresh
 * database at once, the version is re-read inside the exclusive transaction so each step runs
 * exactly once. Returns the schema version now in place.
 */
export async function applyMigrations(
  db: Kysely<any>,
  dialect: SqlDialectName,
  versioning: SchemaVersioning,
  steps: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  const pending = (version: number): boolean => {
    if (version > steps.length) throw new TrackerSchemaTooNewError(version, steps.length);
    return version < steps.length;
  };
  if (!pending(await versioning.read(db))) return steps.length;
  return versioning.exclusive(db, async (trx) => {
    const current = await versioning.read(trx);
    if (!pending(current)) return steps.length;
    for (let i = current; i < steps.length; i++) await steps[i]!.up(trx, dialect);
    await versioning.write(trx, steps.length);
    return steps.length;
  });
}
