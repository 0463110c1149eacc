import { Flags } from '@oclif/core';
import { fileURLToPath } from 'node:url';
import { BaseCommand } from '../cli/base-command.js';
import { withInterrupts } from '../cli/interrupts.js';
import { queueConfigFlags, queueFlags, remoteFlag } from '../cli/queue-flags.js';
import { UserError } from '../errors.js';

export default class Worker extends BaseCommand {
  static override summary = 'Run stages that `mlpipe run --executor queue` hands out, on this machine.';
  static override description = `Takes stage jobs from the BullMQ queue in Redis until Ctrl-C (then finishes the jobs it holds). Needs no checkout and no shared disk besides the remote cache: each job carries the stage's definition and the digests of what it reads; the worker restores those from the remote into a temporary workspace, runs the stage in a child process, and pushes the outputs back. The coordinator records the run.

A worker started with --label gpu also takes stages that ask for it (resources: { labels: [gpu] }); a stage goes only to workers that have all of its labels. A job whose worker dies is given to another worker when its lock expires (BullMQ's stalled-job check).

EXIT CODES
0 stopped after Ctrl-C
2 bad flags, no remote, or Redis does not answer`;
  static override examples = [
    '<%= config.bin %> worker --queue redis://127.0.0.1:6379 --remote /mnt/shared/mlpipe-cache',
    '<%= config.bin %> worker --queue redis://queue.internal:6379 --remote /mnt/cache --concurrency 2 --label gpu',
  ];
  static override flags = {
    ...queueFlags,
    remote: remoteFlag,
    concurrency: Flags.integer({ description: 'Stages this worker runs at once from each queue it serves (a worker with --label gpu serves two: stages without labels and stages that ask for gpu).', env: 'MLPIPE_WORKER_CONCURRENCY', default: 1, min: 1 }),
    label: Flags.string({ description: 'A label this worker advertises, e.g. gpu (repeatable).', multiple: true }),
    name: Flags.string({ description: 'The name shown by `mlpipe workers` (default HOST-PID).', env: 'MLPIPE_WORKER_NAME' }),
    'lock-duration': Flags.integer({ description: 'Milliseconds without a lock renewal after which a job counts as stalled and goes to another worker.', env: 'MLPIPE_WORKER_LOCK_MS', default: 30_000, min: 1000 }),
    'stalled-interval': Flags.integer({ description: 'Milliseconds between checks for stalled jobs.', env: 'MLPIPE_WORKER_STALLED_MS', default: 30_000, min: 500 }),
  };

  async run(): Promise<{ stopped: true }> {
    const { flags } = await this.parse(Worker);
    const config = this.projectConfig(queueConfigFlags(flags));
    const remote = config.remote.value;
    if (!remote) {
      throw new UserError('a worker needs the remote cache the coordinator uses', { hint: 'pass --remote DIR (or set MLPIPE_REMOTE, or default_remote: in mlpipe.yaml), the same as on the coordinator' });
    }
    const { runWorker } = await import('../core/queue/run-worker.js');
    await withInterrupts((signal) =>
      runWorker({
        url: config.queue.value,
        prefix: config.queuePrefix.value,
        name: flags.name,
        labels: flags.label ?? [],
        concurrency: flags.concurrency,
        runsDir: this.runsDir(flags['runs-dir']),
        remote,
        childPath: fileURLToPath(new URL('../cli/stage-child.js', import.meta.url)),
        lockDurationMs: flags['lock-duration'],
        stalledIntervalMs: flags['stalled-interval'],
        signal,
        log: (line) => this.note(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
      }),
    );
    return { stopped: true };
  }
}
