import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { RunEvent, RunObserver, StageSummary } from '../../core/run/events.js';
import { formatMetrics, shortRunId } from '../run-labels.js';
import { formatDuration } from '../numbers.js';
import { planHeadline } from '../plan-text.js';
import type { PlannedStage } from '../../core/run/plan-run.js';

type Wrapper = ListrTaskWrapper<unknown, any, any>;

interface StageView {
  task?: Wrapper;
  title: string;
  output?: string;
  startedAt?: number;
  done: Promise<void>;
  settle: (summary: StageSummary) => void;
}

export interface ListrReporterOptions {
  /** listr2's renderer: `default` draws the live tree; `test` writes one JSON line per task event (for tests). */
  renderer?: 'default' | 'test';
  /** Where the tree goes (stderr by default). */
  stream?: NodeJS.WriteStream;
}

/** The live progress tree on a TTY: one listr2 task per stage, written to stderr. */
export class ListrReporter implements RunObserver {
  private readonly views = new Map<string, StageView>();
  private running?: Promise<unknown>;
  private ticker?: NodeJS.Timeout;

  constructor(private readonly options: ListrReporterOptions = {}) {}

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'run-started':
        this.start(e.plan.stages);
        break;
      case 'stage-started':
        this.update(e.stage, { title: `${e.stage} ${e.action === 'restore' ? 'restoring' : 'running'} · ${e.reason}`, startedAt: Date.now() });
        break;
      case 'stage-output':
        this.update(e.stage, { output: e.line });
        break;
      case 'stage-progress':
        this.update(e.stage, { output: e.message });
        break;
      case 'stage-finished':
        this.views.get(e.stage)?.settle(e.summary);
        break;
      default:
        break;
    }
  }

  private start(planned: PlannedStage[]) {
    const stages = planned.map((s) => s.name);
    for (const p of planned) {
      let settle!: (s: StageSummary) => void;
      const done = new Promise<StageSummary>((resolve) => (settle = resolve));
      const waiting = p.action === 'pending' ? `pending: ${planHeadline(p)}` : p.action === 'restore' ? 'waiting (cached)' : 'waiting';
      const view: StageView = { title: `${p.name} · ${waiting}`, settle, done: Promise.resolve() };
      view.done = done.then((s) => this.finishTask(view, s));
      this.views.set(p.name, view);
    }
    const stream = this.options.stream ?? process.stderr;
    const logger = new ListrLogger({ processOutput: new ProcessOutput(stream, stream) });
    const tasks = stages.map((name) => ({
      title: this.views.get(name)!.title,
      task: async (_ctx: unknown, task: Wrapper) => {
        const view = this.views.get(name)!;
        view.task = task;
        this.render(view);
        await view.done;
      },
    }));
    const options = { concurrent: true, exitOnError: false, registerSignalListeners: false } as const;
    const list =
      this.options.renderer === 'test'
        ? new Listr(tasks, { ...options, renderer: 'test', rendererOptions: { logger } })
        : new Listr(tasks, { ...options, rendererOptions: { logger, collapseSubtasks: false, showSkipMessage: true, collapseSkips: true, suffixSkips: false } });
    this.running = list.run().catch(() => undefined);
    this.ticker = setInterval(() => this.views.forEach((v) => v.startedAt && this.render(v)), 1000);
    this.ticker.unref();
  }

  private update(stage: string, patch: Partial<StageView>) {
    const view = this.views.get(stage);
    if (!view) return;
    Object.assign(view, patch);
    this.render(view);
  }

  private render(view: StageView) {
    if (!view.task) return;
    const elapsed = view.startedAt ? ` · ${formatDuration(Date.now() - view.startedAt)}` : '';
    view.task.title = `${view.title}${elapsed}`;
    if (view.output) view.task.output = view.output;
  }

  private finishTask(view: StageView, s: StageSummary) {
    view.startedAt = undefined;
    const metrics = formatMetrics(s.metrics);
    const task = view.task;
    if (!task) return;
    if (s.status === 'completed' && s.cached) task.title = `${s.name} · cached from ${shortRunId(s.cachedFrom ?? '?')}${metrics ? ` · ${metrics}` : ''}`;
    else if (s.status === 'completed') task.title = `${s.name} · done in ${formatDuration(s.durationMs)}${metrics ? ` · ${metrics}` : ''}`;
    else if (s.status === 'skipped') task.skip(`${s.name} · skipped (${s.reason})`);
    else throw new Error(`${s.name} · ${s.status}: ${s.error ?? ''}${s.lastLines?.length ? `\n${s.lastLines.join('\n')}` : ''}`);
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.running;
  }
}
