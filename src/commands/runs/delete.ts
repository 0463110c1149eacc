import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { setRunsDeleted, type RunDeletion } from '../../app/runs/run-meta.js';
import { renderRunDeletion } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsDelete extends BaseCommand {
  static override summary = 'Delete runs softly: they leave lists, comparisons and reports (runs list --deleted shows them), mlpipe gc frees what only they used, runs restore brings them back.';
  static override strict = false;
  static override examples = ['<%= config.bin %> runs delete r-7f3a1b r-51c0', '<%= config.bin %> runs delete r-7f3a1b --json'];
  static override args = { runs: Args.string({ description: 'Run ids, unambiguous prefixes or MODEL@ALIAS (any number).', required: true }) };

  async run(): Promise<RunDeletion> {
    const { argv, flags } = await this.parse(RunsDelete);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const result = await setRunsDeleted(tracker, argv as string[], true);
      this.out(renderRunDeletion(result, true));
      return result;
    } finally {
      await tracker.close();
    }
  }
}
