import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { runDetails, type RunDetails } from '../../app/compare/run-summaries.js';
import { shouldColor } from '../../render/ansi.js';
import { renderRunDetails } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsShow extends BaseCommand {
  static override summary = 'Show one run: params, stages with cache source and timing, metrics, artifacts, errors.';
  static override examples = ['<%= config.bin %> runs show r-7f3a1b', '<%= config.bin %> runs show iris@production --json'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS for the run that produced it.', required: true }),
  };

  async run(): Promise<RunDetails> {
    const { args, flags } = await this.parse(RunsShow);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const details = await runDetails(tracker, args.run);
      this.out(renderRunDetails(details, { color: shouldColor(process.stdout) }));
      return details;
    } finally {
      await tracker.close();
    }
  }
}
