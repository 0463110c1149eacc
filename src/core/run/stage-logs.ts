import { appendFileSync, mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent, RunObserver } from './events.js';

const FLUSH_LINES = 64;

/** Where a run's stage printed its output: `runs/<run-id>/.logs/<stage>.log`. */
export function stageLogPath(runsDir: string, runId: string, stage: string): string {
  return join(runsDir, runId, '.logs', `${stage}.log`);
}

/**
 * Writes every output line of every stage of one run to its log file, for the dashboard's run page
 * (the tracker keeps only a failed stage's last lines). Lines are appended in small batches and at
 * the end of each stage; a log that cannot be written is given up silently (it is a convenience).
 */
export class StageLogWriter implements RunObserver {
  private readonly pending = new Map<string, string[]>();
  private broken = false;

  constructor(
    private readonly runsDir: string,
    private readonly runId: string,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.type === 'stage-output') {
      const lines = this.pending.get(e.stage) ?? [];
      lines.push(e.line);
      this.pending.set(e.stage, lines);
      if (lines.length >= FLUSH_LINES) this.flush(e.stage);
    } else if (e.type === 'stage-finished') this.flush(e.stage);
    else if (e.type === 'run-finished') for (const stage of [...this.pending.keys()]) this.flush(stage);
  }

  private flush(stage: string): void {
    const lines = this.pending.get(stage);
    this.pending.delete(stage);
    if (!lines?.length || this.broken) return;
    const path = stageLogPath(this.runsDir, this.runId, stage);
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      appendFileSync(path, `${lines.join('\n')}\n`);
    } catch {
      this.broken = true;
    }
  }
}

/** The last `max` lines of a stage's log file (read from its end), or undefined when there is none. */
export async function readLogTail(path: string, max: number, maxBytes = 256 * 1024): Promise<{ lines: string[]; truncated: boolean } | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    let lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (start > 0) lines = lines.slice(1);
    const truncated = start > 0 || lines.length > max;
    return { lines: lines.slice(-max), truncated };
  } finally {
    await fh.close();
  }
}
