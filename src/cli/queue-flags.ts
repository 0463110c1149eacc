import { Flags } from '@oclif/core';
import { UserError } from '../errors.js';
import { openLocalStore } from '../core/store/local-store.js';
import { openRemoteStore } from '../core/store/open-remote.js';
import type { ObjectStore } from '../core/store/types.js';
import type { StageDispatcher } from '../core/run/executor.js';

/** Where the queue is: shared by `run --executor queue`, `worker` and `workers`. */
export const queueFlags = {
  queue: Flags.string({ description: 'The Redis of the job queue.', env: 'MLPIPE_QUEUE', default: 'redis://127.0.0.1:6379', helpGroup: 'QUEUE' }),
  'queue-prefix': Flags.string({ description: 'Key prefix of the queue in Redis: coordinators and workers that work together use the same one.', env: 'MLPIPE_QUEUE_PREFIX', default: 'mlpipe', helpGroup: 'QUEUE' }),
};

/** The remote cache every worker and the coordinator reach. */
export const remoteFlag = Flags.string({ description: 'The remote cache workers and coordinator share: a folder every machine reaches (path or file://).', env: 'MLPIPE_REMOTE', helpGroup: 'QUEUE' });

/** `--executor`: where stages run. */
export const executorFlag = Flags.string({
  description: 'Where stages run: here, or on `mlpipe worker`s through the queue (needs --remote).',
  env: 'MLPIPE_EXECUTOR',
  options: ['local', 'queue'],
  default: 'local',
  helpGroup: 'QUEUE',
});

/** The queue executor's parts for a run, closed when the run is done. */
export interface QueueExecution {
  dispatcher: StageDispatcher;
  remote: ObjectStore;
  close(): Promise<void>;
}

/** Opens the queue dispatcher for `run --executor queue` (exit 2 without a remote, or when Redis does not answer); undefined for local runs. */
export async function openExecution(
  flags: { executor: string; queue: string; 'queue-prefix': string; remote?: string },
  runsDir: string,
): Promise<QueueExecution | undefined> {
  if (flags.executor !== 'queue') return undefined;
  if (!flags.remote) {
    throw new UserError('--executor queue needs a remote cache that the workers share', {
      hint: 'pass --remote DIR (or set MLPIPE_REMOTE) on the coordinator and each `mlpipe worker`; a folder on a disk they all mount works',
    });
  }
  const remote = openRemoteStore(flags.remote);
  const { QueueDispatcher } = await import('../core/queue/queue-dispatcher.js');
  const dispatcher = await QueueDispatcher.open({ url: flags.queue, prefix: flags['queue-prefix'] }, openLocalStore(runsDir), remote);
  return { dispatcher, remote, close: () => dispatcher.close() };
}
