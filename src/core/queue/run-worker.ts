import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { StageFailedError } from '../../errors.js';
import { connectRedis, type QueueAddress } from './redis-connection.js';
import { encodeFailure, queuesServedBy, type StageJobData, type StageJobProgress, type StageJobResult } from './stage-job.js';
import { StageProcessPool } from './stage-process-pool.js';
import { cancelChannel, HEARTBEAT_MS, removeWorkerInfo, writeWorkerInfo, type WorkerInfo } from './worker-registry.js';
import type { RemoteSettings } from '../store/types.js';

export interface WorkerOptions extends QueueAddress {
  /** Shown by `mlpipe workers` and in the coordinator's progress; default HOST-PID. */
  name?: string;
  labels: string[];
  /** Jobs run at once (per queue the worker serves). */
  concurrency: number;
  /** The worker's own state folder (temporary workspaces). */
  runsDir: string;
  /** The remote cache every machine reaches (a folder or S3, with its settings). */
  remote: RemoteSettings;
  /** The stage process script (dist/bundle/cli/stage-child.js). */
  childPath: string;
  /** BullMQ's lockDuration: a job whose lock is not renewed for this long is given to another worker (default 30 s). */
  lockDurationMs?: number;
  /** How often BullMQ looks for stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  signal: AbortSignal;
  /** One line per job taken and finished, for the worker's terminal. */
  log(line: string): void;
}

/**
 * `mlpipe worker`: takes stage jobs from the BullMQ queues of its labels until `signal` aborts, then
 * finishes the jobs it holds and stops. Each job runs in a stage process ({@link StageProcessPool});
 * a job whose worker dies is re-queued by BullMQ's stalled-job check and taken by another worker.
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const redis = await connectRedis(opts);
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const queues = queuesServedBy(opts.labels);
  const pool = new StageProcessPool(opts.childPath, { runsDir: opts.runsDir, remote: opts.remote, worker: name });
  const running = new Map<string, WorkerInfo['jobs'][number]>();
  const info = (): WorkerInfo => ({
    name,
    host: hostname(),
    pid: process.pid,
    labels: [...opts.labels].sort(),
    queues,
    concurrency: opts.concurrency,
    jobs: [...running.values()],
    heartbeat: Date.now(),
    startedAt,
  });
  const startedAt = Date.now();
  const beat = () => writeWorkerInfo(redis, opts.prefix, info()).catch(() => {});

  const processJob = async (job: Job<StageJobData, StageJobResult>, _token?: string, signal?: AbortSignal): Promise<StageJobResult> => {
    const data = job.data;
    const id = job.id ?? '';
    running.set(id, { id, stage: data.stage.name, runId: data.runId, pipeline: data.pipeline, since: Date.now() });
    void beat();
    opts.log(`${data.pipeline}:${data.stage.name} (run ${data.runId}, job ${id}${job.attemptsMade > 0 ? `, attempt ${job.attemptsMade + 1}` : ''}): started`);
    const progress = (p: Omit<StageJobProgress, 'worker'>) => void job.updateProgress({ worker: name, ...p }).catch(() => {});
    progress({ message: 'started' });
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason ?? 'cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await pool.run(data, { onProgress: (message) => progress({ message }), onLines: (lines) => progress({ lines }) }, stop.signal);
      opts.log(`${data.pipeline}:${data.stage.name} (run ${data.runId}): done${result.duplicate ? ' (already completed by another worker; kept that result)' : ''}`);
      return result;
    } catch (err) {
      const failure = err instanceof StageFailedError ? err : new StageFailedError(data.stage.name, String(err));
      opts.log(`${data.pipeline}:${data.stage.name} (run ${data.runId}): ${stop.signal.aborted ? 'stopped' : 'failed'}: ${failure.message}`);
      if (stop.signal.aborted) throw new UnrecoverableError(encodeFailure(failure));
      throw new Error(encodeFailure(failure));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      running.delete(id);
      void beat();
    }
  };

  const workers = queues.map(
    (queue) =>
      new Worker<StageJobData, StageJobResult>(queue, processJob, {
        connection: redis,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        name,
        lockDuration: opts.lockDurationMs ?? 30_000,
        stalledInterval: opts.stalledIntervalMs ?? 30_000,
        maxStalledCount: 3,
      }),
  );
  for (const w of workers) w.on('error', (err) => opts.log(`queue error: ${err.message}`));

  const subscriber = redis.duplicate();
  subscriber.on('error', () => {});
  await subscriber.subscribe(cancelChannel(opts.prefix));
  subscriber.on('message', (_channel, jobId: string) => {
    if (running.has(jobId)) {
      opts.log(`job ${jobId}: cancelled by its coordinator`);
      for (const w of workers) w.cancelJob(jobId, 'cancelled by the coordinator');
    }
  });

  await beat();
  const heartbeat = setInterval(beat, HEARTBEAT_MS);
  opts.log(`worker ${name} serving ${queues.join(', ')} (prefix ${opts.prefix}, concurrency ${opts.concurrency}); Ctrl-C finishes the jobs it holds, then stops`);
  try {
    await new Promise<void>((resolve) => (opts.signal.aborted ? resolve() : opts.signal.addEventListener('abort', () => resolve(), { once: true })));
    if (running.size > 0) opts.log(`finishing ${running.size} job${running.size === 1 ? '' : 's'} before stopping (Ctrl-C again to quit at once)`);
    await Promise.all(workers.map((w) => w.close()));
  } finally {
    clearInterval(heartbeat);
    pool.close();
    await removeWorkerInfo(redis, opts.prefix, name).catch(() => {});
    subscriber.disconnect();
    redis.disconnect();
  }
}
