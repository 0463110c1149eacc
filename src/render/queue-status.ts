import type { QueueStatus } from '../core/queue/queue-status.js';
import { renderTable } from './table.js';

/** `mlpipe workers`: one row per live worker, then the depth of each queue. */
export function renderQueueStatus(status: QueueStatus, now: number): string {
  const workers =
    status.workers.length === 0
      ? `no live workers on prefix ${status.prefix} (start one with: mlpipe worker --queue URL --remote DIR)`
      : renderTable({
          columns: [{ header: 'worker' }, { header: 'labels' }, { header: 'jobs', align: 'right' }, { header: 'current job' }, { header: 'heartbeat', align: 'right' }],
          rows: status.workers.map((w) => ({
            cells: [
              w.name,
              w.labels.join(',') || '-',
              `${w.jobs.length}/${w.concurrency}`,
              w.jobs.map((j) => `${j.pipeline}:${j.stage} (${j.runId})`).join(', ') || 'idle',
              `${((now - w.heartbeat) / 1000).toFixed(1)} s ago`,
            ],
          })),
        });
  const queues = renderTable({
    columns: [{ header: 'queue' }, { header: 'waiting', align: 'right' }, { header: 'active', align: 'right' }, { header: 'delayed', align: 'right' }, { header: 'failed', align: 'right' }, { header: 'completed', align: 'right' }],
    rows: status.queues.map((q) => ({ cells: [q.name, String(q.waiting), String(q.active), String(q.delayed), String(q.failed), String(q.completed)] })),
  });
  return `${workers.trimEnd()}\n\n${queues.trimEnd()}`;
}
