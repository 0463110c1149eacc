import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadSpecOrThrow, overrideFlags, specArg } from '../cli/spec-flags.js';
import { planPipeline } from '../core/run/run-pipeline.js';
import { planJson, renderPlan, staleLine } from '../render/plan-text.js';
import { connectRemote, remoteNameFlag } from '../cli/remote-flags.js';
import { messageOf } from '../errors.js';
import type { ObjectStore } from '../core/store/types.js';
import { ExitCode } from '../exit-codes.js';

export default class Status extends BaseCommand {
  static override summary = 'Show which stages would run, and exactly why; which would be restored from cache.';
  static override description = [
    'With a lock file beside the spec (pipeline.yaml → pipeline.lock, written by `mlpipe run`), a stage whose key matches its entry is up to date, even in a fresh clone with no cache; with a remote (--remote, MLPIPE_REMOTE or default_remote: in mlpipe.yaml) entries there count as restorable (nothing is downloaded).',
    'A stage is stale when `mlpipe run` would change it: with a lock file, its key differs from the locked one (or the lock has no entry for it); without one, it would run. --exit-code exits 1 when any stage is stale and 0 when none is, like `git diff --exit-code`: a CI check that the committed lock file matches the spec, params and data.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> status pipelines/iris/pipeline.yaml',
    '<%= config.bin %> status pipeline.yaml --set params.lr=0.01 --json',
    '<%= config.bin %> status pipeline.yaml --exit-code    # CI: fails when pipeline.lock is stale',
  ];
  static override args = specArg;
  static override flags = {
    ...overrideFlags,
    stage: Flags.string({ description: 'Only this stage and what it needs (repeatable).', multiple: true }),
    'exit-code': Flags.boolean({ description: 'Exit 1 when any stage is stale (its key differs from the lock file, or it would run), 0 when none is.', default: false }),
    remote: remoteNameFlag,
  };

  async run(): Promise<ReturnType<typeof planJson>> {
    const { args, flags } = await this.parse(Status);
    const spec = await loadSpecOrThrow(args.spec, flags);
    const remote = await this.reachableRemote(flags.remote);
    const plan = await planPipeline(spec, this.runsDir(flags['runs-dir']), { only: flags.stage, remote, onWarning: (m) => this.note(`warning: ${m}`) });
    this.out(`${renderPlan(plan)}\n${staleLine(plan)}`);
    const json = planJson(plan);
    if (flags['exit-code'] && !json.upToDate) this.setExitCode(ExitCode.StageFailed); // 1, as git diff --exit-code
    return json;
  }

  /** The remote in force, if any; one that cannot be reached is a warning (status reports, it does not fail for it). */
  private async reachableRemote(flag: string | undefined): Promise<ObjectStore | undefined> {
    const config = this.projectConfig({ remote: flag });
    if (!config.remote.value) return undefined;
    try {
      return await connectRemote(config, 'read');
    } catch (err) {
      this.note(`warning: ${messageOf(err)}; planning without the remote`);
      return undefined;
    }
  }
}
