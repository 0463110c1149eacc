import type { Kysely, RawBuilder } from 'kysely';
import type { SchemaVersioning, SqlDialectName } from './migrations.js';
import type { MetricsTable, TrackerDb } from './schema.js';

/**
 * What differs between the databases under {@link SqlTracker}: the connection and how writes are
 * serialized, the schema version's home, insertion order, and the fast path for metric points.
 * Everything else — every query — is written once with Kysely.
 */
export interface SqlBackend {
  readonly dialect: SqlDialectName;
  /** The file path or URL (without password), for messages. */
  readonly location: string;
  readonly db: Kysely<TrackerDb>;
  readonly versioning: SchemaVersioning;
  /** Runs `fn` in one write transaction (SQLite: BEGIN IMMEDIATE, retried while busy). */
  write<T>(fn: (trx: Kysely<TrackerDb>) => Promise<T>): Promise<T>;
  /** Runs a read; connection failures become {@link TrackerUnavailableError}. */
  read<T>(fn: (db: Kysely<TrackerDb>) => Promise<T>): Promise<T>;
  /** Inside a write: serializes version numbering and alias moves of one model name across processes. */
  lockModel(trx: Kysely<TrackerDb>, name: string): Promise<void>;
  /** Inside a write: inserts metric rows in as few statements as the database allows. */
  insertMetrics(trx: Kysely<TrackerDb>, rows: MetricsTable[]): Promise<void>;
  /** The insertion-order column of a table (or table alias). */
  order(table: string): RawBuilder<number>;
  /** What a full consistency check of the database finds wrong (SQLite: `PRAGMA integrity_check`; a server database checks itself: nothing). */
  checkIntegrity(): Promise<string[]>;
  close(): Promise<void>;
}
