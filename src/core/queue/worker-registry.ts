import type { Redis } from 'ioredis';

/** What a live worker says about itself every heartbeat (a Redis key that expires when it stops). */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  labels: string[];
  queues: string[];
  concurrency: number;
  /** The jobs it is running now. */
  jobs: { id: string; stage: string; runId: string; pipeline: string; since: number }[];
  /** When it last said so (epoch ms). */
  heartbeat: number;
  startedAt: number;
}

/** How often a worker writes its record; it expires after three missed beats. */
export const HEARTBEAT_MS = 2_000;

function keyOf(prefix: string, name: string): string {
  return `${prefix}:mlpipe:worker:${name}`;
}

export async function writeWorkerInfo(redis: Redis, prefix: string, info: WorkerInfo): Promise<void> {
  await redis.set(keyOf(prefix, info.name), JSON.stringify(info), 'PX', HEARTBEAT_MS * 3);
}

export async function removeWorkerInfo(redis: Redis, prefix: string, name: string): Promise<void> {
  await redis.del(keyOf(prefix, name));
}

/** The workers whose heartbeat has not expired, by name. */
export async function listWorkerInfos(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keyOf(prefix, '*'), 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values
    .flatMap((v) => {
      try {
        return v ? [JSON.parse(v) as WorkerInfo] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The pub/sub channel on which coordinators ask workers to stop a running job. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:mlpipe:cancel`;
}
