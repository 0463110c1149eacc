import { BaseCommand } from '../cli/base-command.js';
import { queueConfigFlags, queueFlags } from '../cli/queue-flags.js';
import type { QueueStatus } from '../core/queue/queue-status.js';
import { renderQueueStatus } from '../render/queue-status.js';

export default class Workers extends BaseCommand {
  static override summary = 'List the live workers (name, labels, current job, last heartbeat) and the depth of their queues.';
  static override examples = ['<%= config.bin %> workers', '<%= config.bin %> workers --queue redis://queue.internal:6379 --json'];
  static override flags = { ...queueFlags };

  async run(): Promise<QueueStatus> {
    const { flags } = await this.parse(Workers);
    const { queueStatus } = await import('../core/queue/queue-status.js');
    const config = this.projectConfig(queueConfigFlags(flags));
    const status = await queueStatus({ url: config.queue.value, prefix: config.queuePrefix.value });
    this.out(renderQueueStatus(status, Date.now()));
    return status;
  }
}
