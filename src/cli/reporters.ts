import { relative } from 'node:path';
import type { RunObserver } from '../core/run/events.js';
import type { RunSummary } from '../core/run/run-pipeline.js';
import type { SweepSummary } from '../core/run/run-sweep.js';
import { PlainReporter } from '../render/progress/plain-reporter.js';
import { formatMetrics } from '../render/run-labels.js';
import { formatCell, formatDuration } from '../render/numbers.js';
import { renderTable } from '../render/table.js';

export type Reporter = RunObserver & { close(): Promise<void> };

/** No progress in JSON mode; the live tree on a TTY; plain timestamped lines in CI or when piped. */
export async function chooseReporter(json: boolean): Promise<Reporter | undefined> {
  if (json) return undefined;
  if (isInteractive()) {
    const { ListrReporter } = await import('../render/progress/listr-reporter.js');
    return new ListrReporter();
  }
  return new PlainReporter();
}

/** A person at a terminal: stderr is a TTY and no CI variable says otherwise. */
export function isInteractive(): boolean {
  const ci = process.env.CI !== undefined && process.env.CI !== 'false' && process.env.CI !== '0';
  return process.stderr.isTTY === true && !ci;
}

export function sweepTable(s: SweepSummary): string {
  const all = [...new Set(s.points.flatMap((p) => Object.keys(p.metrics)))];
  const evaluated = all.filter((k) => /^evaluate\./.test(k));
  const objective = s.search?.objective ?? undefined;
  const shown = (evaluated.length > 0 ? evaluated : all.filter((k) => !/^(prepare|deploy)\./.test(k) && !/\.(rung\d+_|pruned_epoch$)/.test(k))).filter((k) => k !== objective);
  const keys = [...(objective ? [objective] : []), ...shown].slice(0, 4);
  const best = s.search?.best ?? undefined;
  const table = renderTable({
    columns: ['point', 'run', 'status', ...keys].map((header) => ({ header })),
    rows: s.points.map((p, i) => ({
      cells: [p.set.join(' '), p.runId ?? '-', p.pruned !== undefined ? `pruned @ epoch ${p.pruned}` : p.status, ...keys.map((k) => `${formatCell(p.metrics[k])}${i === best && k === objective ? ' ★' : ''}`)],
    })),
  });
  return `sweep ${s.sweepId} of ${s.pipeline}: ${s.points.length} points, ${s.failed} failed${s.search ? `\n${searchLine(s)}` : ''}\n${table}`;
}

/** `search asha on train.val_accuracy (max), rungs every 3× from epoch 1: 7 of 9 trials pruned; best: params.lr=0.01 (r-…) = 0.967`. */
function searchLine(s: SweepSummary): string {
  const search = s.search!;
  const head = `search ${search.method} on ${search.objective ?? 'the validation metric'}${search.direction ? ` (${search.direction})` : ''}, rungs from epoch ${search.minEpochs} every ${search.reduction}×: ${search.pruned} of ${s.points.length} trials pruned`;
  const best = search.best === null ? undefined : s.points[search.best];
  if (!best || !search.objective) return `${head}; no trial completed unpruned`;
  return `${head}; best: ${best.set.join(' ')} (${best.runId}) = ${formatCell(best.metrics[search.objective])}`;
}

export function summaryLine(s: RunSummary): string {
  const ran = s.stages.filter((x) => x.status === 'completed' && !x.cached).length;
  const cached = s.stages.filter((x) => x.cached).length;
  const failed = s.stages.filter((x) => x.status === 'failed');
  const head = `run ${s.runId} ${s.status} in ${formatDuration(s.durationMs)}: ${ran} ran, ${cached} cached${failed.length ? `, ${failed.length} failed` : ''}`;
  const metrics = formatMetrics(headlineMetrics(s), 6);
  const lines = [head];
  if (metrics) lines.push(`metrics: ${metrics}`);
  if (s.lock?.changed) lines.push(`updated ${relative(process.cwd(), s.lock.path) || s.lock.path}: commit it with the spec, so teammates and CI see what produced the outputs`);
  for (const f of failed) {
    lines.push(`stage ${f.name} failed: ${f.error ?? ''}`);
  }
  if (s.exitCode === 3) lines.push('a gate did not pass: nothing was registered (exit code 3).');
  else if (failed.length) lines.push('completed stages are cached: fix the failure and run again to resume.');
  return lines.join('\n');
}

/** The metrics worth a line: an evaluate stage's, else those of the last stage that has any. */
export function headlineMetrics(s: RunSummary): Record<string, number> {
  const withMetrics = s.stages.filter((x) => Object.keys(x.metrics).length > 0);
  const pick = withMetrics.find((x) => x.kind === 'evaluate') ?? withMetrics.filter((x) => x.kind !== 'deploy').at(-1);
  return pick ? Object.fromEntries(Object.entries(pick.metrics).map(([k, v]) => [`${pick.name}.${k}`, v])) : {};
}
