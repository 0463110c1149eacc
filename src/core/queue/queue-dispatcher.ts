import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { StageFailedError } from '../../errors.js';
import { hashPath } from '../hash/hash-path.js';
import type { OutputManifest } from '../hash/path-manifest.js';
import { encodeManifest } from '../cache/manifest.js';
import { isCacheable } from '../cache/lookup.js';
import type { ObjectStore } from '../store/types.js';
import type { LocalObjectStore } from '../store/local-store.js';
import { pushMissingFiles, type FileToPush } from '../cache/push-files.js';
import type { DispatchRequest, StageDispatcher } from '../run/executor.js';
import { connectRedis, type QueueAddress } from './redis-connection.js';
import { cancelChannel } from './worker-registry.js';
import { decodeFailure, queueNameFor, shipStage, type StageJobData, type StageJobProgress, type StageJobResult } from './stage-job.js';

/** How long finished jobs stay visible in Redis (for `mlpipe workers` and BullMQ tooling). */
const KEEP_FINISHED_S = 3600;

/** A finished stage job's timings (epoch ms), for the overhead figures (`bench/queue-sweep.mjs`). */
export interface DispatchTiming {
  runId: string;
  stage: string;
  /** When the coordinator added the job (its inputs already on the remote). */
  enqueuedAt: number;
  /** When the worker's stage process began the job, and when it had pushed the outputs. */
  startedAt: number;
  finishedAt: number;
  /** When the coordinator had the result (before it restores the outputs and records the stage). */
  resultAt: number;
  worker: string;
}

/**
 * The coordinator's side of `--executor queue`: each stage that runs becomes a BullMQ job on the
 * queue of its labels, after the inputs a worker needs are pushed to the remote cache (workspace
 * inputs by their files' hashes, upstream outputs from the local cache). It waits for the job,
 * relays the worker's progress as the stage's live line and output, replays the metric points of the
 * attempt that completed, and copies the outputs into the local cache. Only the coordinator records.
 */
export class QueueDispatcher implements StageDispatcher {
  readonly name = 'queue';
  readonly timings: DispatchTiming[] = [];
  private readonly queues = new Map<string, { queue: Queue; events: QueueEvents; connection: Redis }>();

  private constructor(
    private readonly redis: Redis,
    private readonly address: QueueAddress,
    private readonly local: LocalObjectStore,
    private readonly remote: ObjectStore,
  ) {}

  /** Connects (exit 2 when Redis does not answer). */
  static async open(address: QueueAddress, local: LocalObjectStore, remote: ObjectStore): Promise<QueueDispatcher> {
    return new QueueDispatcher(await connectRedis(address), address, local, remote);
  }

  runsLocally(stage: DispatchRequest['stage']): string | undefined {
    if (stage.impl.coordinatorOnly) return `stage ${stage.name} (${stage.kind}) runs on the coordinator: it reads or registers models`;
    const refs = stage.impl.modelRefs?.(stage.config) ?? [];
    if (refs.length > 0) return `stage ${stage.name} runs on the coordinator: it starts from the model ${refs.join(', ')}, which the registry here resolves`;
    const outside = stage.inputs.find((p) => p.startsWith('/'));
    if (outside) return `stage ${stage.name} runs on the coordinator: it reads ${outside}, outside the workspace, which workers cannot see`;
    return undefined;
  }

  async dispatch(req: DispatchRequest): Promise<{ manifest: StageJobResult['manifest']; backend?: string }> {
    const { stage } = req;
    const data = await this.prepare(req);
    const { queue, events } = await this.queueFor(queueNameFor(stage.labels));
    const publish = isCacheable(stage);
    // a forced run is a job of its own: never merged into another coordinator's job for the key (which may restore)
    const jobId = publish && !req.force ? req.key : `${req.key}-${req.runId}`;
    const stale = await queue.getJob(jobId);
    if (stale && ['completed', 'failed'].includes(await stale.getState())) await stale.remove().catch(() => {});
    req.emit({ type: 'stage-progress', stage: stage.name, message: `queued on ${queue.name}` });
    const job: Job<StageJobData, StageJobResult> = await queue.add(stage.name, data, {
      jobId,
      attempts: stage.retries + 1,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
    let worker = '';
    const onProgress = ({ jobId: id, data: p }: { jobId: string; data: unknown }) => {
      if (id !== job.id || typeof p !== 'object' || p === null) return;
      const progress = p as StageJobProgress;
      worker = progress.worker ?? worker;
      if (progress.message) req.emit({ type: 'stage-progress', stage: stage.name, message: `on ${worker}: ${progress.message}` });
      for (const line of progress.lines ?? []) req.emit({ type: 'stage-output', stage: stage.name, line });
    };
    events.on('progress', onProgress);
    // Every stage in flight (up to --jobs, 64 by default) listens on the run's one signal.
    setMaxListeners(0, req.signal);
    let onAbort = () => {};
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => {
        void this.cancel(job);
        reject(interrupted(stage.name, req.signal));
      };
    });
    stopped.catch(() => {});
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const finished = job.waitUntilFinished(events);
      let result: StageJobResult;
      try {
        result = await Promise.race([finished, stopped]);
      } catch (err) {
        if (err instanceof StageFailedError) throw err;
        throw decodeFailure(stage.name, (err as Error).message);
      } finally {
        finished.catch(() => {});
      }
      for (const m of result.metrics) req.emit({ type: 'stage-metric', stage: stage.name, key: m.key, value: m.value, step: m.step });
      if (publish) await this.local.putManifest(req.key, encodeManifest(result.manifest));
      this.timings.push({ runId: req.runId, stage: stage.name, enqueuedAt: data.enqueuedAt, startedAt: result.startedAt, finishedAt: result.finishedAt, resultAt: Date.now(), worker: result.worker });
      return { manifest: result.manifest, backend: result.backend, ...(result.nondeterministic ? { nondeterministic: result.nondeterministic } : {}) };
    } finally {
      events.off('progress', onProgress);
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map(async ({ queue, events }) => Promise.all([queue.close(), events.close()])));
    for (const { connection } of this.queues.values()) connection.disconnect();
    this.redis.disconnect();
  }

  /** The job's data, after pushing every input the worker will restore to the remote. */
  private async prepare(req: DispatchRequest): Promise<StageJobData> {
    const { spec, stage } = req;
    const files: FileToPush[] = [];
    const hashed = async (rels: readonly string[]) => {
      const manifests: Record<string, OutputManifest> = {};
      for (const rel of rels) {
        const abs = resolve(spec.dir, rel);
        const manifest = await hashPath(abs, req.hasher);
        manifests[rel] = manifest;
        for (const f of manifest.files) files.push({ hash: f.hash, size: f.size, path: manifest.type === 'file' ? abs : join(abs, f.path) });
      }
      return manifests;
    };
    const inputs = await hashed(stage.inputs);
    const code = await hashed(req.code);
    const upstream: StageJobData['upstream'] = {};
    for (const need of stage.needs) {
      upstream[need] = req.produced(need) ?? {};
      for (const out of Object.values(upstream[need])) {
        for (const f of out.files) files.push({ hash: f.hash, size: f.size, path: this.local.objectPath(f.hash) });
      }
    }
    await pushMissingFiles(this.remote, files);
    return {
      schemaVersion: 1,
      runId: req.runId,
      pipeline: spec.name,
      key: req.key,
      publish: isCacheable(stage),
      stage: shipStage(stage),
      upstreamStages: Object.fromEntries(stage.needs.map((n) => [n, { name: n, kind: spec.stages[n]!.kind, version: spec.stages[n]!.impl.version, config: spec.stages[n]!.config }])),
      inputs,
      ...(req.code.length > 0 ? { code } : {}),
      ...(req.force ? { force: true } : {}),
      upstream,
      upstreamMetrics: req.upstreamMetrics,
      backend: req.backend,
      enqueuedAt: Date.now(),
    };
  }

  private async queueFor(name: string): Promise<{ queue: Queue; events: QueueEvents }> {
    let entry = this.queues.get(name);
    if (!entry) {
      const queue = new Queue(name, { connection: this.redis, prefix: this.address.prefix });
      const connection = this.redis.duplicate();
      const events = new QueueEvents(name, { connection, prefix: this.address.prefix });
      events.setMaxListeners(0);
      queue.on('error', () => {});
      events.on('error', () => {});
      entry = { queue, events, connection };
      this.queues.set(name, entry);
      await events.waitUntilReady();
    }
    return entry;
  }

  /** Ctrl-C: a job still waiting is removed; a running one is stopped by its worker. */
  private async cancel(job: Job): Promise<void> {
    const removed = await job.remove().then(
      () => true,
      () => false,
    );
    if (!removed) await this.redis.publish(cancelChannel(this.address.prefix), job.id ?? '');
  }
}

function interrupted(stage: string, signal: AbortSignal): StageFailedError {
  return new StageFailedError(stage, `stage ${stage} was stopped (${String(signal.reason ?? 'interrupted')})`);
}
