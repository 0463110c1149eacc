import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteTracker } from './sqlite-tracker.js';
import type { Tracker } from './types.js';

/** Where the tracker database of a runs folder lives. */
export function trackerPath(runsDir: string): string {
  return join(runsDir, 'tracker.db');
}

/** Opens (creating and migrating when needed) the tracker of a runs folder. Close it when done. */
export function openTracker(runsDir: string): Tracker {
  mkdirSync(runsDir, { recursive: true });
  return new SqliteTracker(trackerPath(runsDir));
}
