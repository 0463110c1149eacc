import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { NoTrackerError, TrackerBusyError, TrackerCorruptError, TrackerOpenError, TrackerUnavailableError, TrackerWriteError } from './errors.js';
import { applyMigrations } from './migrations.js';
import { SqlTracker } from './sql-tracker.js';
import { SqliteBackend, type SqliteTrackerOptions } from './sqlite-backend.js';
import type { SqlBackend } from './sql-backend.js';
import { describeTarget, resolveTracker, type TrackerTarget } from './tracker-url.js';
import type { Tracker } from './types.js';

export { NoTrackerError } from './errors.js';
export { trackerPath } from './tracker-url.js';

/** Where to open a tracker: a runs folder, and the tracker setting (`--tracker`, MLPIPE_TRACKER) when one is given. */
export interface OpenTrackerOptions extends SqliteTrackerOptions {
  /** A tracker setting; default: MLPIPE_TRACKER, else `<runsDir>/tracker.db`. */
  tracker?: string;
}

/**
 * Opens (creating and migrating when needed) the tracker of a runs folder: its SQLite file, or the
 * PostgreSQL database the tracker setting names. Close it when done.
 */
export async function openTracker(runsDir: string, opts: OpenTrackerOptions = {}): Promise<Tracker> {
  const target = resolveTracker(runsDir, opts.tracker);
  if (target.kind === 'sqlite') mkdirSync(dirname(target.path), { recursive: true });
  return openTarget(target, opts, { create: true });
}

/** Opens the tracker of a runs folder for commands that only read or update records: never creates one. */
export async function openExistingTracker(runsDir: string, opts: OpenTrackerOptions = {}): Promise<Tracker> {
  const target = resolveTracker(runsDir, opts.tracker);
  if (target.kind === 'sqlite' && !existsSync(target.path)) throw new NoTrackerError(runsDir);
  return openTarget(target, opts, { create: false });
}

async function openTarget(target: TrackerTarget, opts: SqliteTrackerOptions, { create }: { create: boolean }): Promise<Tracker> {
  const location = describeTarget(target);
  let backend: SqlBackend | undefined;
  try {
    if (target.kind === 'sqlite') backend = await SqliteBackend.open(target.path, opts);
    else {
      const { PostgresBackend } = await import('./postgres-backend.js');
      backend = await PostgresBackend.open(target.url, location);
    }
    if (!create && target.kind === 'postgresql' && (await backend.versioning.read(backend.db)) === 0) throw new NoTrackerError(location);
    await applyMigrations(backend.db, backend.dialect, backend.versioning);
    return new SqlTracker(backend);
  } catch (err) {
    await backend?.close().catch(() => {});
    if ([NoTrackerError, TrackerUnavailableError, TrackerOpenError, TrackerBusyError, TrackerCorruptError, TrackerWriteError].some((type) => err instanceof type)) throw err;
    const hint = target.kind === 'postgresql' ? 'check the database named in --tracker / MLPIPE_TRACKER exists (createdb NAME) and that the user may create tables in it' : undefined;
    throw new TrackerOpenError(location, { cause: err, hint });
  }
}
