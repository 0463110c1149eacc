import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { noteRun, type RunMeta } from '../../app/runs/run-meta.js';
import { renderRunMeta } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsNote extends BaseCommand {
  static override summary = 'Set the free-text note of a run (shown by runs show and report; "" clears it).';
  static override examples = ['<%= config.bin %> runs note r-7f3a1b "lr too high: diverged after epoch 3"', '<%= config.bin %> runs note r-7f3a1b ""'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS.', required: true }),
    text: Args.string({ description: 'The note ("" clears it).', required: true }),
  };

  async run(): Promise<RunMeta> {
    const { args, flags } = await this.parse(RunsNote);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const meta = await noteRun(tracker, args.run, args.text);
      this.out(renderRunMeta(meta, 'note'));
      return meta;
    } finally {
      await tracker.close();
    }
  }
}
