// The fast path of a no-op `mlpipe run PIPELINE` (bin/mlpipe.cjs loads this small bundle before the
// CLI): when the memo the last full no-op run wrote (core/run/run-memo.ts) still holds, the run is that
// no-op again. It records the run in the tracker as the full path would (the same rows, new id and
// times, one transaction), creates the same run folder, prints the same lines and points runs/latest
// at it. Anything it cannot vouch for returns false before anything is written: the full path runs.
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { memoPath, memoRunsDir, readValidMemo, type RunMemo } from '../core/run/run-memo.js';
import { recordMemoRun } from '../core/run/run-memo-tracker.js';
import { newRunId } from '../core/run/run-id.js';
import { pointLatest } from '../core/run/point-latest.js';
import { gitCommit } from '../core/git-commit.js';
import type { RunEvent, StageSummary } from '../core/run/events.js';
import type { RunSummary } from '../core/run/run-pipeline.js';
import { PlainReporter } from '../render/progress/plain-reporter.js';
import { isInteractive, summaryLine } from './reporters.js';

/** Performs `mlpipe run ARGV[0]` from its memo when it is a no-op; false (nothing done) when the full path must run. */
export function fastRun(argv: string[]): boolean {
  if (argv.length !== 1 || argv[0]!.startsWith('-') || isInteractive()) return false;
  const startedAt = Date.now();
  const spec = argv[0]!;
  let memo: RunMemo | undefined;
  const runId = newRunId();
  try {
    memo = readValidMemo(memoPath(memoRunsDir(), process.cwd(), spec), spec, startedAt);
    if (!memo || gitCommit(memo.specDir) !== (memo.rows.runs?.[0]?.git_commit ?? null)) return false;
    for (const dir of ['', ...memo.runDirs]) mkdirSync(join(memo.runsDir, runId, dir), { recursive: true });
    if (!recordMemoRun(memo, runId, { startedAt, endedAt: Date.now() })) return abandon(memo, runId);
  } catch {
    return memo ? abandon(memo, runId) : false;
  }
  const durationMs = Date.now() - startedAt;
  const events = JSON.parse(JSON.stringify(memo.events).split(memo.runId).join(runId)) as RunEvent[];
  const stages = JSON.parse(JSON.stringify(memo.stages).split(memo.runId).join(runId)) as StageSummary[];
  const reporter = new PlainReporter();
  for (const e of events) reporter.onEvent(e);
  reporter.onEvent({ type: 'run-finished', runId, status: 'completed', durationMs });
  pointLatest(memo.runsDir, runId);
  const summary = { schemaVersion: 1, runId, status: 'completed', durationMs, stages, exitCode: 0 } as unknown as RunSummary;
  process.stderr.write(`${summaryLine(summary)}\n`);
  // Tests tell a run this path served from one the full path made (their output is the same).
  if (process.env.MLPIPE_FAST_RUN_LOG) appendFileSync(process.env.MLPIPE_FAST_RUN_LOG, `${runId}\n`);
  return true;
}

/** Removes the run folder made for a run that was not recorded after all; false (the full path runs). */
function abandon(memo: RunMemo, runId: string): false {
  rmSync(join(memo.runsDir, runId), { recursive: true, force: true });
  return false;
}
