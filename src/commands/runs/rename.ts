import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renameRun, type RunMeta } from '../../app/runs/run-meta.js';
import { renderRunMeta } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsRename extends BaseCommand {
  static override summary = 'Name a run after the fact (what run --name sets; "" removes the name).';
  static override examples = ['<%= config.bin %> runs rename r-7f3a1b baseline'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS.', required: true }),
    name: Args.string({ description: 'The new name ("" removes it).', required: true }),
  };

  async run(): Promise<RunMeta> {
    const { args, flags } = await this.parse(RunsRename);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const meta = await renameRun(tracker, args.run, args.name);
      this.out(renderRunMeta(meta, 'name'));
      return meta;
    } finally {
      await tracker.close();
    }
  }
}
