import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { TrackerUnavailableError, isConnectionError } from './errors.js';
import type { SchemaVersioning } from './migrations.js';
import type { SqlBackend } from './sql-backend.js';
import type { MetricsTable, TrackerDb } from './schema.js';

/** Tuning for a PostgreSQL tracker connection pool. */
export interface PostgresTrackerOptions {
  /** Connections in the pool. Default 4. */
  maxConnections?: number;
  /** How long to wait for a connection before the tracker counts as unreachable. Default 10000. */
  connectTimeoutMs?: number;
}

/** advisory-lock class ids (the first key of pg_advisory_xact_lock(int, int)). */
const LOCK_MIGRATE = 0x6d6c7001;
const LOCK_MODEL = 0x6d6c7002;
const METRIC_BATCH = 20_000;
/** Deadlock, serialization failure: the transaction can simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A shared tracker on PostgreSQL (the `pg` driver, loaded only when a postgresql:// tracker is
 * used). The schema version lives in table `mlpipe_schema`; migrations and version numbering
 * of a model are serialized between processes and hosts by transaction-scoped advisory locks.
 */
export class PostgresBackend implements SqlBackend {
  readonly dialect = 'postgresql' as const;

  private constructor(
    readonly location: string,
    readonly db: Kysely<TrackerDb>,
  ) {}

  /** Connects (once, now, so an unreachable server is reported before anything runs). */
  static async open(url: string, location: string, options: PostgresTrackerOptions = {}): Promise<PostgresBackend> {
    const { default: pg } = await import('pg');
    const int8 = 20;
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 10_000,
      application_name: 'mlpipe',
      types: { getTypeParser: ((oid: number, format?: string) => (oid === int8 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // A connection the server dropped, idle in the pool or checked out between two queries (inside a
    // transaction, say): its next query fails and reports it as TrackerUnavailableError. Without a
    // listener on each client, pg's 'error' event would end the process with a stack trace.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const backend = new PostgresBackend(location, new Kysely<TrackerDb>({ dialect: new PostgresDialect({ pool }) }));
    try {
      await backend.read((db) => sql`select 1`.execute(db));
    } catch (err) {
      await backend.close().catch(() => {});
      throw err;
    }
    return backend;
  }

  readonly versioning: SchemaVersioning = {
    read: async (db) => {
      const present = await sql<{ t: string | null }>`select to_regclass('mlpipe_schema')::text as t`.execute(db);
      if (!present.rows[0]?.t) return 0;
      const row = await sql<{ version: number }>`select max(version) as version from mlpipe_schema`.execute(db);
      return Number(row.rows[0]?.version ?? 0);
    },
    exclusive: (db, fn) =>
      this.write(async (trx) => {
        await sql`select pg_advisory_xact_lock(${LOCK_MIGRATE}, 0)`.execute(trx);
        await sql`create table if not exists mlpipe_schema (version integer not null)`.execute(trx);
        return fn(trx);
      }),
    write: async (trx, version) => {
      await sql`delete from mlpipe_schema`.execute(trx);
      await sql`insert into mlpipe_schema (version) values (${version})`.execute(trx);
    },
  };

  async write<T>(fn: (trx: Kysely<TrackerDb>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (err) {
        if (isConnectionError(err)) throw new TrackerUnavailableError(this.location, err);
        if (!RETRYABLE.has((err as { code?: string }).code ?? '') || attempt >= 4) throw err;
        await delay(20 * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  }

  async read<T>(fn: (db: Kysely<TrackerDb>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.db);
    } catch (err) {
      if (isConnectionError(err)) throw new TrackerUnavailableError(this.location, err);
      throw err;
    }
  }

  async lockModel(trx: Kysely<TrackerDb>, name: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(${LOCK_MODEL}, hashtext(${name}))`.execute(trx);
  }

  async insertMetrics(trx: Kysely<TrackerDb>, rows: MetricsTable[]): Promise<void> {
    // One statement per 20,000 points: six arrays unnested server-side (no per-row parameters).
    for (let i = 0; i < rows.length; i += METRIC_BATCH) {
      const chunk = rows.slice(i, i + METRIC_BATCH);
      await sql`insert into metrics (run_id, stage, key, step, value, "time")
        select * from unnest(${chunk.map((r) => r.run_id)}::text[], ${chunk.map((r) => r.stage)}::text[], ${chunk.map((r) => r.key)}::text[],
          ${chunk.map((r) => r.step)}::integer[], ${chunk.map((r) => r.value)}::double precision[], ${chunk.map((r) => r.time)}::bigint[])`.execute(trx);
    }
  }

  order(table: string): RawBuilder<number> {
    return sql<number>`${sql.ref(table)}.seq`;
  }

  /** PostgreSQL checksums and recovers its own pages; there is no cheap whole-database check to run from here. */
  async checkIntegrity(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
