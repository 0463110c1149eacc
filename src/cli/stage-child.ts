/**
 * The stage process of `mlpipe worker` (forked by core/queue/stage-process-pool.ts): runs one job at
 * a time as the worker sends them over IPC, and stops its stage when the worker goes away.
 */
import { StageFailedError, messageOf } from '../errors.js';
import { encodeFailure } from '../core/queue/stage-job.js';
import { runStageJob } from '../core/queue/run-stage-job.js';
import type { FromStageProcess, ToStageProcess } from '../core/queue/stage-process-pool.js';
import { openRemoteStore } from '../core/store/open-remote.js';
import { stageKinds } from '../stages/index.js';

const LINE_FLUSH_MS = 100;
let current: AbortController | undefined;
const send = (m: FromStageProcess) => process.connected && process.send?.(m);

process.on('disconnect', () => {
  if (!current) process.exit(0);
  current.abort('SIGTERM');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (current ? current.abort(sig) : process.exit(0)));

process.on('message', (m: ToStageProcess) => {
  if (m.type === 'abort') current?.abort(m.reason);
  else void runJob(m);
});

async function runJob(m: Extract<ToStageProcess, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  current = controller;
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) send({ type: 'lines', lines });
    lines = [];
  };
  const timer = setInterval(flush, LINE_FLUSH_MS);
  try {
    const result = await runStageJob(m.job, {
      kinds: stageKinds,
      runsDir: m.runsDir,
      remote: await openRemoteStore(m.remote),
      worker: m.worker,
      signal: controller.signal,
      onProgress: (message) => send({ type: 'progress', message }),
      onLine: (line) => lines.push(line),
    });
    flush();
    send({ type: 'done', result });
  } catch (err) {
    flush();
    const failure = err instanceof StageFailedError ? err : new StageFailedError(m.job.stage.name, messageOf(err));
    send({ type: 'failed', failure: encodeFailure(failure) });
  } finally {
    clearInterval(timer);
    current = undefined;
    if (!process.connected) process.exit(0);
  }
}
