import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { connectRemote, remoteNameFlag } from '../../cli/remote-flags.js';
import { getRunOutput, type RunGetResult } from '../../app/runs/run-outputs.js';
import { renderRunGet } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { openLocalStore } from '../../core/store/local-store.js';
import { ReadThroughStore } from '../../core/store/read-through-store.js';

export default class RunsGet extends BaseCommand {
  static override summary = "Fetch a run's outputs from the cache into a folder: a stage's, one output, or a file or folder inside one.";
  static override description =
    'The files come from the cache entry the run made or restored, verified against their digests, never from the workspace (a later run may have overwritten it). runs show RUN lists the outputs (STAGE/OUTPUT). Each selected file or folder is written into DIR under its own name; a whole stage writes each output under its declared path.';
  static override examples = [
    '<%= config.bin %> runs get r-7f3a1b train/model -o ./model-r7f3a',
    '<%= config.bin %> runs get r-7f3a1b clean/out/clean.csv -o /tmp/old',
    '<%= config.bin %> runs get r-7f3a1b fit/model/weights.bin -o . --force',
    '<%= config.bin %> runs get iris@production train -o ./prod --pull',
  ];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS.', required: true }),
    target: Args.string({ description: 'STAGE, STAGE/OUTPUT or STAGE/OUTPUT/PATH (see runs show).', required: true }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'The folder to write into (created if missing).', required: true }),
    force: Flags.boolean({ description: 'Replace what is already at a target path.', default: false }),
    pull: Flags.boolean({ description: 'Fetch what the local cache lacks from the remote (verified).', default: false, helpGroup: 'REMOTE' }),
    remote: remoteNameFlag,
  };

  async run(): Promise<RunGetResult> {
    const { args, flags } = await this.parse(RunsGet);
    const runsDir = this.runsDir(flags['runs-dir']);
    const config = this.projectConfig({ remote: flags.remote });
    const local = openLocalStore(runsDir);
    const store = flags.pull ? new ReadThroughStore(local, await connectRemote(config, 'read')) : local;
    const tracker = await openExistingTracker(runsDir);
    try {
      const result = await getRunOutput(tracker, { runsDir, store, pulls: flags.pull, remoteConfigured: Boolean(config.remote.value) }, { run: args.run, target: args.target, dir: flags.output, overwrite: flags.force });
      this.out(renderRunGet(result));
      return result;
    } finally {
      await tracker.close();
    }
  }
}
