import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startCli, waitFor, type Started } from '../reliability/harness.js';

/** The variable naming the Redis the queue tests use (each test works under a key prefix of its own). */
export const REDIS_URL_VARIABLE = 'MLPIPE_TEST_REDIS_URL';

/** MLPIPE_TEST_REDIS_URL, else the development/CI machines' Redis (scripts/check-services.mjs). */
export const redisUrl = (): string => process.env[REDIS_URL_VARIABLE] ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers a PING within 3 s (checked once per test file). */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The reason shown for skipped queue tests. */
export function redisSkipReason(): string {
  return `Redis at ${redisUrl()} is not reachable: set ${REDIS_URL_VARIABLE} to a Redis the tests may use (they write under a key prefix of their own and remove it)`;
}

/**
 * What one queue test shares between its coordinator and its workers — Redis under a prefix of its
 * own, a remote cache folder and an SQLite tracker file — plus a folder for the counter and marker
 * files the stage commands write outside every workspace. `cleanup()` stops every process it
 * started and removes the folder and the prefix's keys.
 */
export interface QueueSetup {
  prefix: string;
  dir: string;
  remote: string;
  tracker: string;
  /** Where commands append one line per execution (MLPIPE_TEST_COUNTER). */
  counter: string;
  /** For markers the commands and the test exchange (MLPIPE_TEST_MARKS). */
  marks: string;
  /** The environment of the coordinator and of every worker. */
  env: Record<string, string>;
  /** The flags that point a command at this setup's queue and remote. */
  queueFlags: string[];
  /** Starts `mlpipe worker` named NAME in an empty folder of its own, resolved once it serves its queues. */
  startWorker(name: string, opts?: { args?: string[]; env?: Record<string, string> }): Promise<WorkerProcess>;
  cleanup(): Promise<void>;
}

export interface WorkerProcess extends Started {
  name: string;
  /** Its own folder (and state folder `runs/` in it). */
  dir: string;
}

export async function makeQueueSetup(): Promise<QueueSetup> {
  const prefix = `mlpipe-test-${randomBytes(5).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-queue-'));
  const remote = join(dir, 'remote');
  const marks = join(dir, 'marks');
  await mkdir(remote);
  await mkdir(marks);
  const tracker = join(dir, 'tracker.db');
  const counter = join(dir, 'counter.log');
  const env = { MLPIPE_TRACKER: tracker, MLPIPE_TEST_COUNTER: counter, MLPIPE_TEST_MARKS: marks };
  const queueFlags = ['--queue', redisUrl(), '--queue-prefix', prefix, '--remote', remote];
  const started: Started[] = [];
  return {
    prefix,
    dir,
    remote,
    tracker,
    counter,
    marks,
    env,
    queueFlags,
    async startWorker(name, opts = {}) {
      const home = join(dir, `worker-${name}`);
      await mkdir(home);
      // MLPIPE_WORKER_NAME names the worker as --name would, and tells its stage commands where they run.
      const worker = startCli(['worker', ...queueFlags, ...(opts.args ?? [])], home, { ...env, MLPIPE_WORKER_NAME: name, ...opts.env });
      started.push(worker);
      await waitFor(`worker ${name} to serve its queues`, () => worker.stderr().includes(`worker ${name} serving`), worker);
      return { ...worker, name, dir: home };
    },
    async cleanup() {
      await Promise.all(started.map(stop));
      await removeKeys(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM (a worker finishes its jobs, then stops), SIGKILL when it is still there after 20 s. */
async function stop(p: Started): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  await p.exited;
  clearTimeout(timer);
}

/** Deletes every key under `prefix:` (BullMQ's queues and the worker records). */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The lines of the counter file, sorted (order depends on scheduling). */
export async function counterLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).sort();
}

/** How many times each worker log says it started `pipeline:stage`, in total. */
export function startedCount(workers: WorkerProcess[], pipeline: string, stage: string): number {
  const line = new RegExp(`\\] ${pipeline}:${stage} \\(run [^)]*\\): started`, 'g');
  return workers.reduce((n, w) => n + (w.stderr().match(line)?.length ?? 0), 0);
}

/** Every file under `dir`, by path, with its bytes (the remote cache as a suspicious user reads it). */
export async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(join(e.parentPath, e.name), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}
