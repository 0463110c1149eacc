import Sqlite from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type DatabaseConnection,
  type Dialect,
  type RawBuilder,
} from 'kysely';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TrackerBusyError, TrackerCorruptError, TrackerWriteError } from './errors.js';
import type { SchemaVersioning } from './migrations.js';
import type { SqlBackend } from './sql-backend.js';
import type { MetricsTable, TrackerDb } from './schema.js';

/** Tuning for an SQLite tracker; the defaults suit every caller but tests. */
export interface SqliteTrackerOptions {
  /** How long one statement waits inside SQLite for another process's write lock (busy_timeout). Default 10000. */
  busyTimeoutMs?: number;
  /** How many times a transaction is retried (async backoff) after SQLITE_BUSY before giving up. Default 8. */
  busyRetries?: number;
  /**
   * Run `PRAGMA quick_check` when the file was not closed cleanly (a write-ahead log was left with
   * frames in it) and refuse a damaged one ({@link TrackerCorruptError}). Default true; `cache verify`
   * turns it off and runs the full check itself.
   */
  checkAfterUncleanShutdown?: boolean;
}

/** Kysely's SQLite driver, but write transactions take the write lock at once (BEGIN IMMEDIATE), so busy_timeout applies. */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /** SQLite rolls back by itself on SQLITE_FULL and some I/O errors: rolling back again would hide that error behind "no transaction is active". */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } catch (err) {
      if (!/no transaction is active/.test((err as Error).message)) throw err;
    }
  }
}

const isBusy = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn`, retrying with async exponential backoff while SQLite says the database is busy. */
export async function retryBusy<T>(retries: number, fn: () => T | Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (attempt >= retries) throw new TrackerBusyError(attempt + 1, { cause: err });
      await delay(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

/** Open connections by file and options: every tracker of one process on one file shares one. */
const shared = new Map<string, Promise<SqliteBackend>>();

/**
 * The embedded tracker: one better-sqlite3 connection in WAL mode, the schema version in `PRAGMA
 * user_version`. Within a process every tracker on a file shares one connection (counted; the last
 * close closes it): a write transaction spans awaits, and a second connection of the same process
 * waiting in busy_timeout would block the event loop that the first needs to commit.
 */
export class SqliteBackend implements SqlBackend {
  readonly dialect = 'sqlite' as const;
  readonly db: Kysely<TrackerDb>;
  private insertMetric: Statement | undefined;
  private refs = 1;
  private key = '';

  private constructor(
    readonly location: string,
    private readonly sqlite: Database,
    private readonly retries: number,
    /** Opened read-only because the file or its folder cannot be written (a read-only image): writes fail with {@link TrackerWriteError}. */
    readonly readOnly = false,
  ) {
    const dialect: Dialect = {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new ImmediateSqliteDriver({ database: sqlite }),
      createQueryCompiler: () => new SqliteQueryCompiler(),
      createIntrospector: (db) => new SqliteIntrospector(db),
    };
    this.db = new Kysely<TrackerDb>({ dialect });
  }

  /** Opens the file (creating it), with WAL, synchronous=NORMAL and foreign keys on, or shares the connection this process has. Migrations are the caller's. */
  static async open(path: string, options: SqliteTrackerOptions = {}): Promise<SqliteBackend> {
    const key = `${resolve(path)}\u0000${options.busyTimeoutMs ?? ''}\u0000${options.busyRetries ?? ''}\u0000${options.checkAfterUncleanShutdown ?? ''}`;
    const known = shared.get(key);
    if (known) {
      const backend = await known;
      backend.refs++;
      return backend;
    }
    const opening = SqliteBackend.connect(path, options);
    shared.set(key, opening);
    try {
      const backend = await opening;
      backend.key = key;
      return backend;
    } catch (err) {
      shared.delete(key);
      throw err;
    }
  }

  private static async connect(path: string, options: SqliteTrackerOptions): Promise<SqliteBackend> {
    const retries = options.busyRetries ?? 8;
    const unclean = hasFrames(`${path}-wal`);
    let sqlite = new Sqlite(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    let readOnly = false;
    try {
      await retryBusy(retries, () => sqlite.pragma('journal_mode = WAL'));
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
    } catch (err) {
      sqlite.close();
      if (!isReadOnlyError(err) || !existsSync(path)) throw err;
      sqlite = openReadOnly(path);
      readOnly = true;
    }
    try {
      if (unclean && options.checkAfterUncleanShutdown !== false) {
        const problems = integrityProblems(sqlite, 'quick_check');
        if (problems.length > 0) throw new TrackerCorruptError(path, problems);
      }
      return new SqliteBackend(path, sqlite, retries, readOnly);
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }

  /** `PRAGMA integrity_check` (every page, every index entry): what it found wrong, or nothing. */
  async checkIntegrity(): Promise<string[]> {
    return integrityProblems(this.sqlite, 'integrity_check');
  }

  readonly versioning: SchemaVersioning = {
    read: async (db) => Number((await sql<{ user_version: number }>`PRAGMA user_version`.execute(db)).rows[0]?.user_version ?? 0),
    exclusive: (db, fn) => retryBusy(this.retries, () => db.transaction().execute(fn)),
    write: async (trx, version) => {
      await sql.raw(`PRAGMA user_version = ${Math.trunc(version)}`).execute(trx);
    },
  };

  write<T>(fn: (trx: Kysely<TrackerDb>) => Promise<T>): Promise<T> {
    return retryBusy(this.retries, () => this.db.transaction().execute(fn)).catch((err: unknown) => {
      throw isWriteProblem(err) ? new TrackerWriteError(this.location, err, this.readOnly) : err;
    });
  }

  read<T>(fn: (db: Kysely<TrackerDb>) => Promise<T>): Promise<T> {
    return retryBusy(this.retries, () => fn(this.db));
  }

  async lockModel(): Promise<void> {
    // BEGIN IMMEDIATE already holds the database's one write lock.
  }

  async insertMetrics(_trx: Kysely<TrackerDb>, rows: MetricsTable[]): Promise<void> {
    // Inside the write transaction on the one connection: a prepared statement per row is SQLite's fastest path.
    this.insertMetric ??= this.sqlite.prepare('INSERT INTO metrics (run_id, stage, key, step, value, time) VALUES (?, ?, ?, ?, ?, ?)');
    for (const r of rows) this.insertMetric.run(r.run_id, r.stage, r.key, r.step, r.value, r.time);
  }

  order(table: string): RawBuilder<number> {
    return sql<number>`${sql.ref(table)}.rowid`;
  }

  /** The raw connection, for tests that check pragmas. */
  get connection(): Database {
    return this.sqlite;
  }

  async close(): Promise<void> {
    if (--this.refs > 0) return;
    shared.delete(this.key);
    await this.db.destroy();
  }
}

const codeOf = (err: unknown): string => String((err as { code?: unknown })?.code ?? '');

/** SQLite could not write the file or create its WAL beside it: the file or its folder is read-only. */
const isReadOnlyError = (err: unknown): boolean => /^SQLITE_(READONLY|CANTOPEN|PERM)|^E(ROFS|ACCES|PERM)$/.test(codeOf(err));

const isWriteProblem = (err: unknown): boolean => /^SQLITE_(FULL|READONLY|IOERR)/.test(codeOf(err));

function hasFrames(wal: string): boolean {
  try {
    return statSync(wal).size > 0;
  } catch {
    return false;
  }
}

/**
 * A read-only connection: on the file itself when SQLite can use its WAL index there, else on a copy
 * in memory (a read-only folder without the -shm file; WAL mode marked off in the copy's header).
 */
function openReadOnly(path: string): Database {
  const direct = new Sqlite(path, { readonly: true, fileMustExist: true });
  try {
    direct.pragma('user_version');
    return direct;
  } catch (err) {
    direct.close();
    if (!isReadOnlyError(err)) throw err;
  }
  const bytes = readFileSync(path);
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
  return new Sqlite(bytes, { readonly: true });
}

function integrityProblems(sqlite: Database, pragma: 'quick_check' | 'integrity_check'): string[] {
  try {
    const rows = sqlite.pragma(`${pragma}(20)`) as Record<string, string>[];
    return rows.map((r) => Object.values(r)[0]!).filter((line) => line !== 'ok');
  } catch (err) {
    return [(err as Error).message];
  }
}
