import { Redis } from 'ioredis';
import { UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';

/** Where the queue is: the Redis URL and the key prefix all of mlpipe's BullMQ keys start with. */
export interface QueueAddress {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** BullMQ's key prefix (default `mlpipe`): coordinators and workers of one team share it. */
  prefix: string;
}

const CHECK_TIMEOUT_MS = 5_000;

/** Redacts the password of a Redis URL for messages. */
export function displayUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * A connection BullMQ can use (`maxRetriesPerRequest: null`, as its workers require), opened after a
 * PING answered within 5 s: an unreachable or misspelt Redis is a usage error (exit 2) naming the
 * URL, before anything is enqueued or run.
 */
export async function connectRedis(address: QueueAddress): Promise<Redis> {
  if (!/^rediss?:\/\//.test(address.url)) {
    throw new UserError(`expected a Redis URL such as redis://127.0.0.1:6379, got "${address.url}"`, { hint: 'pass --queue redis://HOST:PORT (or set MLPIPE_QUEUE)' });
  }
  const probe = new Redis(address.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: CHECK_TIMEOUT_MS, retryStrategy: () => null });
  let cause: Error | undefined;
  probe.on('error', (err: Error) => (cause ??= err));
  try {
    await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS).unref()),
    ]);
  } catch (err) {
    // The socket's own error (ECONNREFUSED, ENOTFOUND, NOAUTH …) says more than ioredis' "Connection is closed."
    const reason = reasonOf(cause ?? (err as Error));
    throw new UserError(`cannot reach the queue's Redis at ${displayUrl(address.url)}: ${reason}`, {
      exitCode: ExitCode.Usage,
      hint: 'start Redis there (redis-server), or point --queue / MLPIPE_QUEUE at the Redis your workers use; nothing was run',
      cause: cause ?? err,
    });
  } finally {
    // ioredis' disconnect() of a connection that already ended arms a 2 s timer nothing clears, which kept the process alive.
    if (probe.status !== 'end') probe.disconnect();
  }
  const redis = new Redis(address.url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  return redis;
}

function reasonOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code} (${err.message})` : err.message || code || 'no answer';
}
