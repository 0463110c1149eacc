import type { RunEvent, RunObserver } from '../../core/run/events.js';
import { formatMetrics, shortRunId } from '../run-labels.js';
import { formatDuration } from '../numbers.js';
import { renderPlan } from '../plan-text.js';

/** Progress as timestamped plain lines (no TTY, CI): one line per event worth a line. */
export class PlainReporter implements RunObserver {
  constructor(
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly now: () => Date = () => new Date(),
    /** Prefixes every line, e.g. a sweep point's `params.lr=0.01`. */
    private readonly label?: string,
  ) {}

  private line(text: string) {
    this.write(`[${this.now().toISOString().slice(11, 19)}]${this.label ? ` [${this.label}]` : ''} ${text}`);
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'run-started':
        this.line(`run ${e.runId} of ${e.pipeline}: ${e.plan.stages.length} stage(s)`);
        for (const l of renderPlan(e.plan).split('\n')) this.line(`plan │ ${l}`);
        break;
      case 'stage-started':
        this.line(`${e.stage}: ${e.action === 'restore' ? 'restoring' : 'running'} (${e.reason})`);
        break;
      case 'stage-output':
        this.line(`${e.stage} │ ${e.line}`);
        break;
      case 'stage-finished': {
        const s = e.summary;
        const metrics = formatMetrics(s.metrics);
        if (s.status === 'completed' && s.cached) this.line(`${s.name}: cached (from ${shortRunId(s.cachedFrom ?? '?')})${metrics ? ` ${metrics}` : ''}`);
        else if (s.status === 'completed') this.line(`${s.name}: done in ${formatDuration(s.durationMs)}${metrics ? ` ${metrics}` : ''}`);
        else if (s.status === 'skipped') this.line(`${s.name}: skipped (${s.reason})`);
        else {
          this.line(`${s.name}: ${s.status}: ${s.error ?? ''}`);
          for (const l of s.lastLines ?? []) this.line(`${s.name} │ ${l}`);
        }
        break;
      }
      case 'run-finished':
        this.line(`run ${e.runId} ${e.status} in ${formatDuration(e.durationMs)}`);
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {}
}
