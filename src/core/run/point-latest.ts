import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** `runs/latest` → the newest run folder (replaced atomically; a runs folder without symlinks keeps none). */
export function pointLatest(runsDir: string, runId: string): void {
  const tmp = join(runsDir, `.latest-${runId}`);
  try {
    rmSync(tmp, { force: true });
    symlinkSync(runId, tmp);
    renameSync(tmp, join(runsDir, 'latest'));
  } catch {
    rmSync(tmp, { force: true });
  }
}
