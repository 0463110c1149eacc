import { UserError, messageOf } from '../../errors.js';

/** The tracker database could not be opened or migrated (exit 2: nothing was run). */
export class TrackerOpenError extends UserError {
  constructor(
    readonly location: string,
    options: { cause: unknown; hint?: string },
  ) {
    super(`cannot open the tracker ${location}: ${messageOf(options.cause)}`, {
      cause: options.cause,
      hint: options.hint ?? openHint(options.cause),
    });
    this.name = 'TrackerOpenError';
  }
}

/** The SQLite tracker's file is damaged (`PRAGMA quick_check` / `integrity_check` found problems): its records cannot be trusted. */
export class TrackerCorruptError extends UserError {
  constructor(
    readonly location: string,
    readonly problems: string[],
  ) {
    super(`the tracker ${location} is damaged: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`, {
      hint: `keep a copy, then recover what SQLite can read: sqlite3 ${location} .recover | sqlite3 recovered.db, and move recovered.db in its place (or move the file aside to start a new history; the cache stays usable); mlpipe cache verify lists the cache entries of runs the tracker no longer holds`,
    });
    this.name = 'TrackerCorruptError';
  }
}

const WRITE_CAUSES: Array<[RegExp, string, string]> = [
  [/^SQLITE_FULL/, 'the disk is full', 'free some space (mlpipe gc drops cache objects no run needs) or move the runs folder to a bigger disk, then run again; the records written so far are intact'],
  [/^SQLITE_READONLY/, 'the file or its folder is read-only', 'read commands work on a read-only runs folder; to run or change records, make it writable or use another --runs-dir'],
  [/^SQLITE_IOERR/, 'the disk reported an I/O error', 'check the disk (dmesg) and free space, then run again'],
];

/** A write to the SQLite tracker failed for a reason outside the database: a full disk, a read-only folder, an I/O error. */
export class TrackerWriteError extends UserError {
  constructor(
    readonly location: string,
    cause: unknown,
    openedReadOnly: boolean,
  ) {
    const code = String((cause as { code?: unknown })?.code ?? '');
    const [, what, hint] = WRITE_CAUSES.find(([re]) => re.test(code)) ?? [undefined, messageOf(cause), 'run again'];
    super(`cannot write to the tracker ${location}: ${openedReadOnly ? 'it was opened read-only because its folder cannot be written' : what} (${code})`, { cause, hint });
    this.name = 'TrackerWriteError';
  }
}

/** What to do about a file that would not open, by the real cause: a full disk or a read-only folder is not a reason to move the history aside. */
function openHint(cause: unknown): string {
  const code = String((cause as { code?: unknown })?.code ?? '');
  if (/^SQLITE_FULL|^ENOSPC$/.test(code)) return 'the disk is full: free some space (mlpipe gc drops cache objects no run needs), then run again; the records are intact';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM)|^E(ROFS|ACCES|PERM)$/.test(code)) return 'check that the file and its folder can be read (and, to run, written), or pass another --runs-dir';
  return 'if the file is damaged, keep a copy and move it aside (a new history starts; the cache stays usable), or pass another --runs-dir (or --tracker / MLPIPE_TRACKER)';
}

/** The tracker's server cannot be reached, or the connection was lost (a network tracker). */
export class TrackerUnavailableError extends UserError {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    super(`the tracker ${location} is unreachable: ${describeConnectionError(cause)}`, {
      cause,
      hint: 'check that the database server is running and that --tracker / MLPIPE_TRACKER names it; stages that completed are cached: run again to resume from them',
    });
    this.name = 'TrackerUnavailableError';
  }
}

/** Another process held the tracker's write lock for longer than every retry allowed (exit 2). */
export class TrackerBusyError extends UserError {
  constructor(attempts: number, options: { cause: unknown }) {
    super(`the tracker database stayed locked by another process after ${attempts} attempts`, { ...options, hint: 'retry when the other mlpipe command has finished' });
    this.name = 'TrackerBusyError';
  }
}

/** A tracker that holds no mlpipe records (read-only commands never create one). */
export class NoTrackerError extends UserError {
  constructor(what: string) {
    super(`no experiment tracker in ${what}: nothing has been run there yet`, {
      hint: 'run a pipeline first (mlpipe run pipeline.yaml), or point --runs-dir / MLPIPE_RUNS_DIR (or --tracker / MLPIPE_TRACKER) at the right place',
    });
    this.name = 'NoTrackerError';
  }
}

/** A run id that an update refers to is not in the tracker. */
export class RunNotFoundError extends UserError {
  constructor(readonly runId: string) {
    super(`run ${runId} is not in the tracker; list runs with: mlpipe runs list`);
    this.name = 'RunNotFoundError';
  }
}

/** A model version that an alias should point at is not registered. */
export class ModelVersionNotFoundError extends UserError {
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`model ${model} has no version ${version}; list versions with: mlpipe models list`);
    this.name = 'ModelVersionNotFoundError';
  }
}

/** An explicit version number given to registerModel is already taken by another artifact. */
export class ModelVersionTakenError extends UserError {
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`model ${model} version ${version} is already registered with another artifact; register without a version to get the next one`);
    this.name = 'ModelVersionTakenError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * Whether an error from a database driver means the connection is gone or cannot be made (a
 * network error, a PostgreSQL connection-exception or shutdown state, a terminated connection).
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

function describeConnectionError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  const message = messageOf(err) || 'connection lost';
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
