import type { MetricPoint, Tracker } from '../tracker/types.js';
import { MetricBuffer } from '../tracker/metric-buffer.js';
import type { RunEvent, RunObserver } from './events.js';

/** Records stage runs and metric points of one run as events arrive; metric points are batched. */
export class TrackerRecorder implements RunObserver {
  private readonly buffer: MetricBuffer;
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly tracker: Tracker,
    private readonly runId: string,
  ) {
    this.buffer = new MetricBuffer(tracker);
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'stage-started':
        this.startedAt.set(e.stage, Date.now());
        this.tracker.recordStageRun({ runId: this.runId, stage: e.stage, kind: e.kind, status: 'running', reason: e.reason, startedAt: Date.now() });
        break;
      case 'stage-metric': {
        const point: MetricPoint = { runId: this.runId, stage: e.stage, key: e.key, step: e.step, value: e.value, time: Date.now() };
        this.buffer.add(point);
        break;
      }
      case 'stage-finished': {
        this.buffer.flush();
        const s = e.summary;
        const extra = e.record;
        const startedAt = this.startedAt.get(e.stage) ?? null;
        this.tracker.recordStageRun({
          runId: this.runId,
          stage: s.name,
          kind: s.kind,
          status: s.status,
          cacheKey: extra.key ?? null,
          cachedFrom: s.cachedFrom ?? null,
          reason: s.reason,
          startedAt,
          endedAt: startedAt === null ? null : Date.now(),
          durationMs: s.durationMs,
          error: s.error ? [s.error, ...(s.lastLines ?? [])].join('\n') : null,
          keyMaterial: s.status === 'completed' ? (extra.material ?? null) : null,
        });
        if (extra.manifest && s.outputs) {
          this.tracker.recordArtifacts(
            Object.entries(extra.manifest.outputs).map(([name, out]) => ({
              runId: this.runId,
              stage: s.name,
              name,
              path: s.outputs![name],
              hash: out.digest,
              size: out.files.reduce((n, f) => n + f.size, 0),
            })),
          );
        }
        break;
      }
      default:
        break;
    }
  }

  close(): void {
    this.buffer.close();
  }
}
