import { existsSync } from 'node:fs';

/**
 * Test-only hooks for the crash-safety tests (test/reliability). Nothing here does anything
 * unless one of these variables is set; they are not a user feature.
 *
 * - `MLPIPE_TEST_PAUSE_BEFORE=POINT` stops the process at that step of committing a stage's
 *   outputs (or of registering a model), after printing `MLPIPE_TEST_PAUSED POINT` on stderr, so a test can SIGKILL it there
 *   or do something meanwhile; with `MLPIPE_TEST_RESUME_WHEN=FILE` it goes on once FILE exists.
 * - `MLPIPE_TEST_FAULT=POINT:CODE` makes that step fail as the system would with that error code
 *   (`store-object:ENOSPC` behaves like a full disk while an object is written).
 */
export type TestPoint =
  /** A stage has finished; none of its outputs is in the store yet. */
  | 'commit'
  /** An object's bytes are in a synced temp file under cache/tmp; it is not yet published. */
  | 'store-object'
  /** Every object is stored; the manifest is written and synced to cache/tmp, not yet renamed into place. */
  | 'store-manifest'
  /** `mlpipe push` / `pull`: every object has been copied to the other store, no manifest yet. */
  | 'copy-manifests'
  /** A deploy has exported its model; the registry transaction that numbers its version has not begun. */
  | 'register-model';

const FOREVER_MS = 2 ** 31 - 1;
const POLL_MS = 20;

/** Pauses at `point` when MLPIPE_TEST_PAUSE_BEFORE names it: until MLPIPE_TEST_RESUME_WHEN exists, or forever. */
export async function pauseForTest(point: TestPoint): Promise<void> {
  if (process.env.MLPIPE_TEST_PAUSE_BEFORE !== point) return;
  process.stderr.write(`MLPIPE_TEST_PAUSED ${point}\n`);
  const resume = process.env.MLPIPE_TEST_RESUME_WHEN;
  while (!resume || !existsSync(resume)) await new Promise((r) => setTimeout(r, resume ? POLL_MS : FOREVER_MS));
}

/** Throws a system-style error at `point` when MLPIPE_TEST_FAULT names it. */
export function injectFaultForTest(point: TestPoint, path: string): void {
  const [at, code] = (process.env.MLPIPE_TEST_FAULT ?? '').split(':');
  if (at !== point || !code) return;
  const error = new Error(`${code}: injected test fault, write '${path}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.path = path;
  throw error;
}
