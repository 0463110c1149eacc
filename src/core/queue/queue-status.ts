import { Queue } from 'bullmq';
import { connectRedis, type QueueAddress } from './redis-connection.js';
import { listWorkerInfos, type WorkerInfo } from './worker-registry.js';
import { queueNameFor } from './stage-job.js';

/** One BullMQ queue's depth. */
export interface QueueDepth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** What `mlpipe workers --json` prints. */
export interface QueueStatus {
  schemaVersion: 1;
  prefix: string;
  workers: WorkerInfo[];
  /** The default queue and every queue a live worker serves. */
  queues: QueueDepth[];
}

/** The live workers (heartbeat within the last few seconds) and the depth of their queues. */
export async function queueStatus(address: QueueAddress): Promise<QueueStatus> {
  const redis = await connectRedis(address);
  try {
    const workers = await listWorkerInfos(redis, address.prefix);
    const names = [...new Set([queueNameFor([]), ...workers.flatMap((w) => w.queues)])].sort();
    const queues = await Promise.all(
      names.map(async (name) => {
        const queue = new Queue(name, { connection: redis, prefix: address.prefix });
        try {
          const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
          return { name, waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0 };
        } finally {
          await queue.close();
        }
      }),
    );
    return { schemaVersion: 1, prefix: address.prefix, workers, queues };
  } finally {
    redis.disconnect();
  }
}
