import type { RunObserver } from '../core/run/events.js';
import type { RunSummary } from '../core/run/run-pipeline.js';
import { PlainReporter } from '../core/progress/plain-reporter.js';
import { ListrReporter } from '../core/progress/listr-reporter.js';
import { formatDuration, formatMetrics } from '../core/progress/format.js';

export type Reporter = RunObserver & { close(): Promise<void> };

/** No progress in JSON mode; the live tree on a TTY; plain timestamped lines in CI or when piped. */
export function chooseReporter(json: boolean): Reporter | undefined {
  if (json) return undefined;
  const ci = process.env.CI !== undefined && process.env.CI !== 'false' && process.env.CI !== '0';
  if (process.stderr.isTTY && !ci) return new ListrReporter();
  return new PlainReporter();
}

export function summaryLine(s: RunSummary): string {
  const ran = s.stages.filter((x) => x.status === 'completed' && !x.cached).length;
  const cached = s.stages.filter((x) => x.cached).length;
  const failed = s.stages.filter((x) => x.status === 'failed');
  const head = `run ${s.runId} ${s.status} in ${formatDuration(s.durationMs)}: ${ran} ran, ${cached} cached${failed.length ? `, ${failed.length} failed` : ''}`;
  const metrics = formatMetrics(s.metrics, 6);
  const lines = [head];
  if (metrics) lines.push(`metrics: ${metrics}`);
  for (const f of failed) {
    lines.push(`stage ${f.name} failed: ${f.error ?? ''}`);
  }
  if (s.exitCode === 3) lines.push('a gate did not pass: nothing was registered (exit code 3).');
  else if (failed.length) lines.push('completed stages are cached: fix the failure and run again to resume.');
  return lines.join('\n');
}
