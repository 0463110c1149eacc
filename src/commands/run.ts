import { Flags } from '@oclif/core';
import { backendFlag } from '../cli/backend-flag.js';
import { availableParallelism } from 'node:os';
import { BaseCommand } from '../cli/base-command.js';
import { loadOptionsOf, loadSpecOrThrow, overrideFlags, specArg } from '../cli/spec-flags.js';
import { planPipeline, runPipeline, type RunSummary } from '../core/run/run-pipeline.js';
import { chooseReporter, summaryLine, sweepTable } from '../cli/reporters.js';
import { parseSweep, sweepPoints } from '../core/run/sweep-grid.js';
import { planSweep, runSweep, type SweepSummary } from '../core/run/run-sweep.js';
import { PlainReporter } from '../render/progress/plain-reporter.js';
import { writeCiReports, writeSuitesReports } from '../cli/ci-reports.js';
import type { JunitSuite } from '../render/ci/junit.js';
import { planJson, renderPlan, renderSweepPlan } from '../render/plan-text.js';
import { withInterrupts } from '../cli/interrupts.js';
import type { BackendChoice } from '../ml/backend-choice.js';
import { reasonLine } from '../render/reasons.js';
import { executorFlag, openExecution, queueConfigFlags, queueFlags, remoteFlag, type QueueExecution } from '../cli/queue-flags.js';
import type { BaseFlags } from '../cli/base-command.js';
import { connectRemote } from '../cli/remote-flags.js';
import { pushEntries, type TransferResult } from '../app/remote/transfer.js';
import { renderTransfer } from '../render/transfer.js';
import type { CacheLinkType, ObjectStore } from '../core/store/types.js';
import { checkRunName, parseTags } from '../app/runs/run-meta.js';
import { searchFlags, searchOf } from '../cli/search-flags.js';
import type { RunEvent } from '../core/run/events.js';
import { writeRunMemo } from '../core/run/write-run-memo.js';
import { StatCache } from '../core/hash/stat-cache.js';

/** `run --sweep … --dry --json`: each point's plan (as `run --dry --json` prints one) with its `--set` items. */
type SweepPlanJson = { schemaVersion: 1; points: (ReturnType<typeof planJson> & { set: string[] })[] };

/** Stages (and sweep points) in flight at once with the queue executor unless --jobs says otherwise: the workers' concurrency is the real limit. */
const QUEUE_JOBS = 64;

export default class Run extends BaseCommand {
  static override summary = 'Run a pipeline: stages whose inputs changed run, the rest are restored from cache.';
  static override examples = [
    '<%= config.bin %> run pipelines/iris/pipeline.yaml',
    '<%= config.bin %> run pipeline.yaml --set params.lr=0.01 --set train.epochs=3',
    '<%= config.bin %> run pipeline.yaml --stage train --force',
    '<%= config.bin %> run pipeline.yaml --dry',
    '<%= config.bin %> run pipeline.yaml --name baseline --tag owner=ana --tag data=march',
    '<%= config.bin %> run pipeline.yaml --pull --push   # a teammate\'s entries are restored, not re-run; the new ones are shared',
    '<%= config.bin %> run pipeline.yaml --sweep params.lr=0.001,0.01,0.1 --sweep train.batch_size=32,64 --jobs 2',
    "<%= config.bin %> run pipeline.yaml --sweep 'params.lr=loguniform(1e-4,1e-1)' --sweep train.batch_size=16,32,64 --trials 20 --seed 1",
    "<%= config.bin %> run pipeline.yaml --sweep 'params.lr=loguniform(1e-4,1e-1)' --trials 16 --seed 1 --search asha --objective val_accuracy --min-epochs 2 --reduction 3",
  ];
  static override args = specArg;
  static override flags = {
    ...overrideFlags,
    stage: Flags.string({ description: 'Run only this stage and what it needs (repeatable).', multiple: true }),
    force: Flags.boolean({ description: 'Ignore the cache: run every selected stage.', default: false }),
    dry: Flags.boolean({ description: 'Print the plan only; run nothing.', default: false }),
    junit: Flags.string({ description: 'Write each stage and each gate as a JUnit test case to this file (a sweep: one suite per point).', env: 'MLPIPE_JUNIT' }),
    sweep: Flags.string({
      description: 'Run a grid: KEY=V1,V2,… or KEY=range(START,STOP,lin|log,COUNT); with --trials also KEY=uniform(A,B), loguniform(A,B) or randint(A,B) (repeatable).',
      multiple: true,
    }),
    trials: Flags.integer({ description: 'Random search: draw this many points of the --sweep axes instead of running the whole grid.', min: 1, max: 10000, dependsOn: ['sweep'] }),
    seed: Flags.integer({ description: 'Seed of the random search (--trials): the same seed draws the same trials (default 0).', dependsOn: ['trials'] }),
    ...searchFlags,
    'lock-timeout': Flags.integer({ description: 'Seconds to wait for another run that holds the workspace lock before giving up (default: as long as it takes).', env: 'MLPIPE_LOCK_TIMEOUT', min: 0 }),
    jobs: Flags.integer({ description: 'Stages run at once (default: number of cores).', env: 'MLPIPE_JOBS', min: 1 }),
    backend: backendFlag('Compute backend for ML stages.'),
    executor: executorFlag,
    remote: remoteFlag,
    ...queueFlags,
    pull: Flags.boolean({ description: 'Look for cache entries on the remote too: a stage whose entry is there is restored from it (fetched, verified), not run.', default: false, helpGroup: 'REMOTE' }),
    push: Flags.boolean({ description: 'Push the run\'s entries to the remote when it ends (else MLPIPE_AUTOPUSH, else autopush: in mlpipe.yaml).', allowNo: true, helpGroup: 'REMOTE' }),
    name: Flags.string({ description: 'Name the run (shown by runs list, runs show, compare and report; filter with name = \'…\').' }),
    tag: Flags.string({ description: 'Tag the run: KEY=VALUE (repeatable; filter with tags.KEY; change later with mlpipe runs tag).', multiple: true }),
    isolated: Flags.boolean({ description: 'Run every stage in a temporary copy of the workspace and leave the workspace untouched (sweep points always are); mlpipe checkout RUN brings the outputs back.', default: false }),
  };

  async run(): Promise<((RunSummary | SweepSummary) & { push?: TransferResult[] }) | SweepPlanJson | ReturnType<typeof planJson>> {
    const { args, flags } = await this.parse(Run);
    const runsDir = this.runsDir(flags['runs-dir']);
    const config = this.projectConfig({ ...queueConfigFlags(flags), autopush: flags.push });
    const search = flags.sweep ? searchOf(flags, config.executor.value) : undefined;
    const queued = config.executor.value === 'queue' && !flags.dry ? await openExecution(config, runsDir) : undefined;
    try {
      const push = config.autopush.value && !flags.dry ? (queued?.remote ?? (await connectRemote(config, 'write'))) : undefined;
      const pull = flags.pull ? (queued?.remote ?? (await connectRemote(config, 'read'))) : undefined;
      // `run SPEC` alone, locally, with nothing to push: a no-op of it can be repeated from a memo (cli/fast-run.ts).
      const memo = this.argv.length === 1 && this.argv[0] === args.spec && !queued && !push && !pull;
      const result = await this.execute(args.spec, flags, runsDir, queued, pull, search, config.cacheTypes, memo);
      if (!push || !('exitCode' in result)) return result;
      const runIds = 'points' in result ? result.points.flatMap((p) => (p.runId ? [p.runId] : [])) : [result.runId];
      return { ...result, push: await this.pushRun(runsDir, push, runIds) };
    } finally {
      await queued?.close();
    }
  }

  /** `--push` / autopush: the runs' entries to the remote, one line on stderr. */
  private async pushRun(runsDir: string, remote: ObjectStore, runIds: string[]): Promise<TransferResult[]> {
    const results: TransferResult[] = [];
    for (const run of runIds) {
      const result = await pushEntries({ runsDir, remote, selection: { run } });
      results.push(result);
      this.note(renderTransfer(result).split('\n')[0]!);
    }
    return results;
  }

  private async execute(file: string, flags: BaseFlags<typeof Run>, runsDir: string, queued: QueueExecution | undefined, pull: ObjectStore | undefined, search: ReturnType<typeof searchOf>, cacheTypes: readonly CacheLinkType[], memo = false): Promise<RunSummary | SweepSummary | SweepPlanJson | ReturnType<typeof planJson>> {
    const args = { spec: file };
    const jobs = flags.jobs ?? (queued ? QUEUE_JOBS : availableParallelism());
    const labels = { name: flags.name === undefined ? undefined : checkRunName(flags.name), tags: parseTags(flags.tag ?? []) };
    const common = { ...labels, runsDir, cacheTypes, force: flags.force, only: flags.stage, jobs, dispatcher: queued?.dispatcher, remote: queued?.remote ?? pull, backend: flags.backend as BackendChoice, explain: reasonLine, lockTimeoutMs: flags['lock-timeout'] === undefined ? undefined : flags['lock-timeout'] * 1000, onWarning: (m: string) => this.note(`warning: ${m}`) };
    if (flags.sweep) {
      const grid = sweepPoints(flags.sweep.map(parseSweep), { trials: flags.trials, seed: flags.seed });
      if (flags.dry) {
        const plans = await planSweep({ ...common, file: args.spec, load: loadOptionsOf(flags), grid, search });
        this.out(renderSweepPlan(plans, search?.settings.method));
        return { schemaVersion: 1 as const, points: plans.map((p) => ({ set: p.set, ...planJson(p.plan) })) };
      }
      const json = this.jsonEnabled();
      const points: JunitSuite[] = [];
      const summary = await withInterrupts((signal) =>
        runSweep({
          ...common,
          file: args.spec,
          load: loadOptionsOf(flags),
          grid,
          search,
          signal,
          observersFor: (label) => (json ? [] : [new PlainReporter(undefined, undefined, label)]),
          onPoint: (p) => (points[p.index] = { spec: p.spec, summary: p.summary, label: p.set.join(' ') }),
        }),
      );
      await writeSuitesReports(points.filter(Boolean), { junit: flags.junit });
      this.out(sweepTable(summary));
      this.setExitCode(summary.exitCode);
      return summary;
    }
    const spec = await loadSpecOrThrow(args.spec, flags);
    if (flags.dry) {
      const plan = await planPipeline(spec, runsDir, { force: flags.force, only: flags.stage, onWarning: common.onWarning, remote: common.remote });
      this.out(renderPlan(plan));
      return planJson(plan);
    }
    const reporter = await chooseReporter(this.jsonEnabled());
    const events: RunEvent[] = [];
    let warned = false;
    const summary = await withInterrupts((signal) =>
      runPipeline({
        ...common,
        onWarning: (m) => {
          warned = true;
          common.onWarning(m);
        },
        spec,
        isolated: flags.isolated,
        observers: [...(reporter ? [reporter] : []), { onEvent: (e) => events.push(e) }],
        signal,
      }),
    );
    await reporter?.close();
    if (memo && !warned && reporter instanceof PlainReporter && !flags.junit && !process.env.GITHUB_STEP_SUMMARY) {
      await writeRunMemo({ spec, specArg: file, runsDir, summary, events, hashed: (await StatCache.open(runsDir)).asked });
    }
    await writeCiReports(spec, summary, { junit: flags.junit });
    if (!this.jsonEnabled()) this.note(summaryLine(summary));
    this.setExitCode(summary.exitCode);
    return summary;
  }
}
