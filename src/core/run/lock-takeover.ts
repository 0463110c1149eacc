import type { StageKinds } from '../stage-kind.js';
import type { Tracker } from '../tracker/types.js';
import type { WorkspaceLockHolder } from '../workspace-lock.js';

/** Stops the commands a dead holder of the workspace lock left running (they hold the lock through fd 3); returns what each kind did. */
export async function stopOrphansOf(kinds: StageKinds, runsDir: string, holder: WorkspaceLockHolder | undefined): Promise<string[]> {
  const deadRuns = new Set(holder ? [holder.runId] : []);
  const messages: string[] = [];
  for (const kind of kinds.values()) messages.push(...((await kind.recover?.(runsDir, { deadRuns })) ?? []));
  return messages;
}

/** Marks the run of a holder that died holding the workspace lock, and its running stages, interrupted; true when it was still `running`. */
export async function markHolderInterrupted(tracker: Tracker, holder: WorkspaceLockHolder): Promise<boolean> {
  if ((await tracker.getRun(holder.runId))?.status !== 'running') return false;
  const now = Date.now();
  for (const stage of await tracker.getStageRuns(holder.runId)) {
    if (stage.status === 'running') await tracker.recordStageRun({ ...stage, status: 'interrupted', endedAt: now });
  }
  await tracker.updateRun(holder.runId, { status: 'interrupted', endedAt: now });
  return true;
}
