import type { RunRecord, StageRunRecord } from '../../core/tracker/types.js';

/** Why a run did not complete: the stage that failed, its error and the last lines it printed. */
export interface RunFailure {
  /** The failed stage, or null when the run ended without a stage failing (interrupted, killed). */
  stage: string | null;
  error: string;
  lastLines: string[];
}

/**
 * The failure of a run that failed or was interrupted, read from its records: the first failed
 * stage's error (the recorder stores the message, then the stage's last output lines, one per
 * line), else the run's own error. Null for a run that is running or completed.
 */
export function runFailure(run: Pick<RunRecord, 'status' | 'error'>, stages: readonly Pick<StageRunRecord, 'stage' | 'status' | 'error'>[]): RunFailure | null {
  if (run.status !== 'failed' && run.status !== 'interrupted') return null;
  const failed = stages.find((s) => s.status === 'failed' && s.error);
  if (failed) {
    const [error = '', ...lastLines] = failed.error!.split('\n');
    const prefix = `stage ${failed.stage}: `; // records written before stage errors stopped naming their stage
    return { stage: failed.stage, error: error.startsWith(prefix) ? error.slice(prefix.length) : error, lastLines };
  }
  return { stage: null, error: run.error ?? `the run ended ${run.status}`, lastLines: [] };
}
