import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { setRunsDeleted, type RunDeletion } from '../../app/runs/run-meta.js';
import { renderRunDeletion } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsRestore extends BaseCommand {
  static override summary = 'Bring deleted runs back into lists, comparisons and reports (what gc freed meanwhile is not restored: re-run them).';
  static override strict = false;
  static override examples = ['<%= config.bin %> runs restore r-7f3a1b'];
  static override args = { runs: Args.string({ description: 'Run ids, unambiguous prefixes or MODEL@ALIAS (any number).', required: true }) };

  async run(): Promise<RunDeletion> {
    const { argv, flags } = await this.parse(RunsRestore);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const result = await setRunsDeleted(tracker, argv as string[], false);
      this.out(renderRunDeletion(result, false));
      return result;
    } finally {
      await tracker.close();
    }
  }
}
