import { fork, type ChildProcess } from 'node:child_process';
import { StageFailedError } from '../../errors.js';
import type { StageJobData, StageJobResult } from './stage-job.js';
import { decodeFailure } from './stage-job.js';
import type { RemoteSettings } from '../store/types.js';

/** What the worker tells a stage process. */
export type ToStageProcess =
  | { type: 'run'; job: StageJobData; runsDir: string; remote: RemoteSettings; worker: string }
  | { type: 'abort'; reason: string };

/** What a stage process tells the worker. */
export type FromStageProcess =
  | { type: 'progress'; message: string }
  | { type: 'lines'; lines: string[] }
  | { type: 'done'; result: StageJobResult }
  | { type: 'failed'; failure: string };

/** How long a stopped stage process may take to stop its stage (a shell command gets 10 s before SIGKILL) before it is killed. */
const STOP_GRACE_MS = 15_000;

export interface StageProcessHooks {
  onProgress(message: string): void;
  onLines(lines: string[]): void;
}

/**
 * Stage processes of a worker (STYLE.md 18; BullMQ's sandboxed processors do the same): each job
 * runs in a child process, so training never blocks the event loop that renews the job's lock, and a
 * child whose worker dies sees its IPC channel close and stops its stage. Idle children are kept for
 * the next job (TensorFlow.js stays loaded); one that was stopped or misbehaved is discarded.
 */
export class StageProcessPool {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Set<ChildProcess>();

  constructor(
    private readonly childPath: string,
    private readonly context: { runsDir: string; remote: RemoteSettings; worker: string },
  ) {}

  async run(job: StageJobData, hooks: StageProcessHooks, signal: AbortSignal): Promise<StageJobResult> {
    const child = this.idle.pop() ?? this.spawn();
    this.busy.add(child);
    let reusable = true;
    try {
      return await new Promise<StageJobResult>((resolve, reject) => {
        let kill: NodeJS.Timeout | undefined;
        const onAbort = () => {
          reusable = false;
          child.send({ type: 'abort', reason: String(signal.reason ?? 'SIGTERM') } satisfies ToStageProcess);
          kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        };
        const cleanup = () => {
          signal.removeEventListener('abort', onAbort);
          clearTimeout(kill);
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        const onMessage = (m: FromStageProcess) => {
          if (m.type === 'progress') hooks.onProgress(m.message);
          else if (m.type === 'lines') hooks.onLines(m.lines);
          else {
            cleanup();
            if (m.type === 'done') resolve(m.result);
            else reject(decodeFailure(job.stage.name, m.failure));
          }
        };
        const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
          cleanup();
          reusable = false;
          reject(new StageFailedError(job.stage.name, `the worker's stage process ${sig ? `was killed by ${sig}` : `exited with code ${code}`}`));
        };
        child.on('message', onMessage);
        child.on('exit', onExit);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
        child.send({ type: 'run', job, ...this.context } satisfies ToStageProcess);
      });
    } finally {
      this.busy.delete(child);
      if (reusable && child.connected) this.idle.push(child);
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /** Ends the idle children: each exits when its IPC channel closes (busy ones end with their job). */
  close(): void {
    for (const child of this.idle.splice(0)) if (child.connected) child.disconnect();
  }

  private spawn(): ChildProcess {
    // Its own process group: Ctrl-C in the worker's terminal reaches the worker only, which finishes
    // the jobs it holds; the child stops its stage when told to, or when the worker is gone.
    const child = fork(this.childPath, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced', detached: true });
    child.on('error', () => {});
    return child;
  }
}
