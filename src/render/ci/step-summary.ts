import type { RunSummary } from '../../core/run/run-pipeline.js';
import { formatDuration } from '../numbers.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown summary of a run (a sweep point: `label`, its `--set` items) for `$GITHUB_STEP_SUMMARY` (or any markdown sink). */
export function renderStepSummary(s: RunSummary, label?: string): string {
  const icon = s.status === 'completed' ? '✅' : s.exitCode === 3 ? '⛔' : '❌';
  const lines = [
    `### ${icon} mlpipe run \`${s.runId}\` of \`${s.pipeline}\`${label ? ` (${cell(label)})` : ''}: ${s.status} in ${formatDuration(s.durationMs)}`,
    '',
    '| stage | status | cache | duration | reason |',
    '|---|---|---|---|---|',
    ...s.stages.map(
      (x) => `| ${cell(x.name)} | ${x.status} | ${x.cached ? `from \`${x.cachedFrom}\`` : 'ran'} | ${formatDuration(x.durationMs)} | ${cell(x.error ?? x.reason)} |`,
    ),
  ];
  const metrics = Object.entries(s.metrics);
  if (metrics.length > 0) {
    lines.push('', '| metric | value |', '|---|---|', ...metrics.map(([k, v]) => `| ${cell(k)} | ${Number.isInteger(v) ? v : v.toPrecision(6)} |`));
  }
  return `${lines.join('\n')}\n\n`;
}
