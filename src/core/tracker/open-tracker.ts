import { existsSync, mkdirSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { join } from 'node:path';
import { SqliteTracker } from './sqlite-tracker.js';
import type { Tracker } from './types.js';

/** Where the tracker database of a runs folder lives. */
export function trackerPath(runsDir: string): string {
  return join(runsDir, 'tracker.db');
}

/** Opens (creating and migrating when needed) the tracker of a runs folder. Close it when done. */
export function openTracker(runsDir: string): Promise<Tracker> {
  mkdirSync(runsDir, { recursive: true });
  return SqliteTracker.open(trackerPath(runsDir));
}

/** A runs folder without a tracker: nothing was ever run there. */
export class NoTrackerError extends UserError {
  constructor(runsDir: string) {
    super(`no experiment tracker in ${runsDir}: nothing has been run there yet`, {
      hint: 'run a pipeline first (mlpipe run pipeline.yaml), or point --runs-dir / MLPIPE_RUNS_DIR at the runs folder',
    });
    this.name = 'NoTrackerError';
  }
}

/** Opens the tracker of a runs folder for commands that only read or update records: never creates one. */
export async function openExistingTracker(runsDir: string): Promise<Tracker> {
  if (!existsSync(trackerPath(runsDir))) throw new NoTrackerError(runsDir);
  return SqliteTracker.open(trackerPath(runsDir));
}
