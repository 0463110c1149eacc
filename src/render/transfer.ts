import type { TransferResult } from '../app/remote/transfer.js';
import { formatBytes } from './bytes.js';

const STATUS: Record<TransferResult['stages'][number]['status'], { push: string; pull: string }> = {
  copied: { push: 'sent', pull: 'fetched' },
  present: { push: 'already on the remote', pull: 'already in the local cache' },
  'not-cached': { push: 'not cached', pull: 'not on the remote' },
  unavailable: { push: 'not sent', pull: 'not fetched' },
};

/** The text `mlpipe push` / `pull` print: a count line, then one line per stage. */
export function renderTransfer(r: TransferResult): string {
  const verb = r.direction === 'push' ? `pushed to ${r.remote}` : `pulled from ${r.remote}`;
  const what = r.pipeline ? ` (${r.runId ? `run ${r.runId} of ` : ''}${r.pipeline})` : '';
  const head =
    `${verb}${what}: ${r.entries.copied} entr${r.entries.copied === 1 ? 'y' : 'ies'}, ${r.objects.copied} object${r.objects.copied === 1 ? '' : 's'} (${formatBytes(r.bytes)}); ` +
    `already there: ${r.entries.present} entr${r.entries.present === 1 ? 'y' : 'ies'}, ${r.objects.present} object${r.objects.present === 1 ? '' : 's'}` +
    (r.entries.unavailable > 0 ? `; ${r.entries.unavailable} could not be copied` : '');
  const width = Math.max(0, ...r.stages.map((s) => s.stage.length));
  const stages = r.stages.map((s) => `  ${s.stage.padEnd(width)}  ${STATUS[s.status][r.direction]}${s.reason ? `: ${s.reason}` : ''}`);
  const outs = r.checkedOut.map((c) => `  wrote ${c.path} (stage ${c.stage})`);
  return [head, ...stages, ...outs].join('\n');
}

/** The one-line progress of a transfer, for a terminal. */
export function transferProgress(direction: 'push' | 'pull', p: { done: number; total: number; bytes: number; totalBytes: number }): string {
  return `${direction === 'push' ? 'pushing' : 'pulling'} ${p.done}/${p.total} objects, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`;
}
