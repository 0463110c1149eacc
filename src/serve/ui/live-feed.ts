import type { ServerResponse } from 'node:http';
import type { Tracker } from '../../core/tracker/types.js';

const RECENT = 25;
const KEEPALIVE_MS = 15_000;

/**
 * What changes when a run starts, logs a metric, finishes, is renamed, tagged, noted, deleted or restored, or a model
 * alias moves: the number of runs and of deleted runs, the newest runs (id, status, end, name, tags, note), every running run
 * (point count, stage statuses), and the registry's versions and aliases.
 * Read through the Tracker interface only, so it works on any tracker.
 */
export async function trackerFingerprint(tracker: Tracker): Promise<string> {
  const [recent, running, models, count, deleted] = await Promise.all([
    tracker.listRuns({ limit: RECENT }),
    tracker.listRuns({ status: 'running' }),
    tracker.listModels(),
    tracker.countRuns({}),
    tracker.countRuns({ deleted: 'only' }),
  ]);
  const parts: string[] = [`${count}:${deleted}`];
  for (const r of recent) parts.push(JSON.stringify([r.id, r.status, r.endedAt, r.name, r.tags, r.note]));
  for (const r of running) parts.push(`${r.id}:${(await tracker.getMetrics(r.id)).length}:${(await tracker.getStageRuns(r.id)).map((s) => s.status).join(',')}`);
  for (const m of models) parts.push(`${m.name}@${m.version}:${m.aliases.join(',')}`);
  return parts.join('|');
}

/**
 * Server-sent events for the dashboard: every client of `GET /api/events` gets `event: change` when
 * the tracker's fingerprint moves. The tracker is polled only while a client is connected.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private polling = false;

  constructor(
    private readonly tracker: Tracker,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Takes over a response as an event stream until the client goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: ${Math.max(1000, this.pollMs)}\nevent: hello\ndata: {}\n\n`);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.keepalive = setInterval(() => this.broadcast(': keepalive\n\n'), KEEPALIVE_MS);
      void this.poll();
    }
  }

  /** Ends every stream (on server shutdown). */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    clearInterval(this.keepalive);
    this.timer = this.keepalive = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = await trackerFingerprint(this.tracker);
      if (this.last !== undefined && now !== this.last) this.broadcast(`event: change\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`);
      this.last = now;
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
    }
  }

  private broadcast(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}
