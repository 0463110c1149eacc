import type { ModelRegistrationRequest } from '../stage-kind.js';
import { HEARTBEAT_MS, type MetricPoint, type RunRecord, type Tracker } from '../tracker/types.js';
import { MetricBuffer } from '../tracker/metric-buffer.js';
import { registerModelVersion, type Registration } from './model-registration.js';
import type { RunEvent, RunObserver } from './events.js';
import { importRunOf } from './imported-runs.js';
import type { StageManifest } from '../cache/manifest.js';

/** How a run ends, as {@link TrackerRecorder.finish} records it. */
export type RunEnding = Pick<RunRecord, 'status' | 'endedAt' | 'backend' | 'error'>;

/**
 * The one writer of a run's rows: the run, its stage runs, metric points (batched) and artifacts,
 * the model versions its stages register, and the runs of other machines whose entries it restored
 * (known here from their manifests' provenance, so `runs show` answers for them). Events arrive synchronously and are written in
 * order, one at a time; the first failed write stops further writes and is thrown by
 * {@link registerModel} and {@link finish}. While the run lives it writes a heartbeat every
 * `heartbeatMs`, by which other hosts tell a live run from a dead one.
 */
export class TrackerRecorder implements RunObserver {
  private readonly buffer: MetricBuffer;
  private readonly startedAt = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Runs this tracker recorded itself that stages were restored from: looked up once, not per stage. */
  private readonly ownRuns = new Set<string>();

  constructor(
    private readonly tracker: Tracker,
    private readonly run: Pick<RunRecord, 'id' | 'pipeline'>,
    private readonly runsDir: string,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    this.buffer = new MetricBuffer({ logMetrics: (points) => this.enqueue(() => tracker.logMetrics(points)) });
    this.heartbeat = setInterval(() => void this.enqueue(() => tracker.heartbeat(run.id)), heartbeatMs).unref();
  }

  /** Records a new run (the first write; it fails loudly, before any stage starts). */
  static async start(tracker: Tracker, run: RunRecord, runsDir: string, opts: { heartbeatMs?: number } = {}): Promise<TrackerRecorder> {
    await tracker.createRun({ ...run, heartbeatAt: run.heartbeatAt ?? Date.now() });
    return new TrackerRecorder(tracker, run, runsDir, opts.heartbeatMs);
  }

  get runId(): string {
    return this.run.id;
  }

  onEvent(e: RunEvent): void {
    const runId = this.runId;
    switch (e.type) {
      case 'stage-started': {
        const startedAt = Date.now();
        this.startedAt.set(e.stage, startedAt);
        void this.enqueue(() => this.tracker.recordStageRun({ runId, stage: e.stage, kind: e.kind, status: 'running', reason: e.reason, startedAt }));
        break;
      }
      case 'stage-metric': {
        const point: MetricPoint = { runId, stage: e.stage, key: e.key, step: e.step, value: e.value, time: Date.now() };
        try {
          this.buffer.add(point);
        } catch (error) {
          this.failure ??= { error };
        }
        break;
      }
      case 'stage-finished': {
        void this.buffer.flush().catch((error: unknown) => (this.failure ??= { error }));
        const s = e.summary;
        const extra = e.record;
        const startedAt = this.startedAt.get(e.stage) ?? null;
        const endedAt = startedAt === null ? null : Date.now();
        void this.enqueue(() =>
          this.tracker.recordStageRun({
            runId,
            stage: s.name,
            kind: s.kind,
            status: s.status,
            cacheKey: extra.key ?? null,
            cachedFrom: s.cachedFrom ?? null,
            reason: s.reason,
            startedAt,
            endedAt,
            durationMs: s.durationMs,
            error: s.error ? [s.error, ...(s.lastLines ?? [])].join('\n') : null,
            keyMaterial: s.status === 'completed' ? (extra.material ?? null) : null,
            nondeterministic: s.nondeterministic ?? null,
          }),
        );
        if (extra.manifest && s.outputs) {
          const artifacts = Object.entries(extra.manifest.outputs).map(([name, out]) => ({
            runId,
            stage: s.name,
            name,
            path: s.outputs![name],
            hash: out.digest,
            size: out.files.reduce((n, f) => n + f.size, 0),
          }));
          void this.enqueue(() => this.tracker.recordArtifacts(artifacts));
        }
        const from = s.cached ? extra.manifest : undefined;
        if (from && from.runId !== runId) void this.enqueue(() => this.importRun(from, { name: s.name, kind: s.kind, material: extra.material }));
        break;
      }
      default:
        break;
    }
  }

  /** Registers the model a stage of this run asks for, after everything recorded so far. */
  async registerModel(request: ModelRegistrationRequest, stage: string): Promise<Registration> {
    await this.settle();
    return registerModelVersion(this.tracker, this.runsDir, { runId: this.runId, stage }, request);
  }

  /** Writes what is still buffered and how the run ended; throws the first write that failed. */
  async finish(ending: RunEnding): Promise<void> {
    this.stop();
    await this.buffer.close().catch((error: unknown) => (this.failure ??= { error }));
    await this.settle();
    await this.tracker.updateRun(this.runId, ending);
  }

  /** Stops the heartbeat (finish does it; call it when a run is abandoned without finishing). */
  stop(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async importRun(from: StageManifest, stage: Parameters<typeof importRunOf>[2]): Promise<void> {
    if (this.ownRuns.has(from.runId)) return;
    if (await importRunOf(this.tracker, from, stage, this.run.pipeline)) this.ownRuns.add(from.runId);
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await write();
      } catch (error) {
        this.failure = { error };
      }
    });
    return this.chain;
  }

  /** Waits for every queued write; throws the first that failed. */
  private async settle(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure.error;
  }
}
