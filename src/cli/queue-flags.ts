import { Flags } from '@oclif/core';
import { UserError } from '../errors.js';
import { openLocalStore } from '../core/store/local-store.js';
import { openRemoteStore } from '../core/store/open-remote.js';
import type { MaintainableStore, ObjectStore } from '../core/store/types.js';
import type { StageDispatcher } from '../core/run/executor.js';
import type { ProjectConfig, RemoteTarget } from '../core/config/resolve-config.js';

// These flags have no `env:` or `default:` of their own: core/config resolves each setting
// (flag > MLPIPE_* variable > mlpipe.yaml > default), so `mlpipe config list` can say where it came from.

/** Where the queue is: shared by `run --executor queue`, `worker` and `workers`. */
export const queueFlags = {
  queue: Flags.string({ description: 'The Redis of the job queue (else MLPIPE_QUEUE, else queue: in mlpipe.yaml, else redis://127.0.0.1:6379).', helpGroup: 'QUEUE' }),
  'queue-prefix': Flags.string({
    description: 'Key prefix of the queue in Redis: coordinators and workers that work together use the same one (else MLPIPE_QUEUE_PREFIX, else queue_prefix: in mlpipe.yaml, else mlpipe).',
    helpGroup: 'QUEUE',
  }),
};

/** The remote cache every worker and the coordinator reach. */
export const remoteFlag = Flags.string({
  description: 'The remote cache: a remote named in mlpipe.yaml, or a URL / folder every machine reaches (else MLPIPE_REMOTE, else default_remote: in mlpipe.yaml).',
  helpGroup: 'QUEUE',
});

/** `--executor`: where stages run. */
export const executorFlag = Flags.string({
  description: 'Where stages run: here, or on `mlpipe worker`s through the queue (needs a remote; else MLPIPE_EXECUTOR, else executor: in mlpipe.yaml, else local).',
  options: ['local', 'queue'],
  helpGroup: 'QUEUE',
});

/** The flags above as the resolver's flags. */
export function queueConfigFlags(flags: { executor?: string; queue?: string; 'queue-prefix'?: string; remote?: string }): { executor?: string; queue?: string; queuePrefix?: string; remote?: string } {
  return { executor: flags.executor, queue: flags.queue, queuePrefix: flags['queue-prefix'], remote: flags.remote };
}

/** The remote store a remote target names (S3, a folder or file://; a folder's path is already absolute). */
export function openRemote(target: RemoteTarget): Promise<MaintainableStore> {
  return openRemoteStore(target);
}

/** The queue executor's parts for a run, closed when the run is done. */
export interface QueueExecution {
  dispatcher: StageDispatcher;
  remote: ObjectStore;
  close(): Promise<void>;
}

/** Opens the queue dispatcher for `run --executor queue` (exit 2 without a remote, or when Redis does not answer); undefined for local runs. */
export async function openExecution(config: ProjectConfig, runsDir: string): Promise<QueueExecution | undefined> {
  if (config.executor.value !== 'queue') return undefined;
  const target = config.remote.value;
  if (!target) {
    throw new UserError('--executor queue needs a remote cache that the workers share', {
      hint: 'pass --remote DIR (or set MLPIPE_REMOTE, or default_remote: in mlpipe.yaml) on the coordinator and each `mlpipe worker`; a folder on a disk they all mount works',
    });
  }
  const remote = await openRemote(target);
  const { QueueDispatcher } = await import('../core/queue/queue-dispatcher.js');
  const dispatcher = await QueueDispatcher.open({ url: config.queue.value, prefix: config.queuePrefix.value }, openLocalStore(runsDir), remote);
  return { dispatcher, remote, close: () => dispatcher.close() };
}
