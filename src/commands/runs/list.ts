import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { listRunSummaries, type RunListItem } from '../../app/compare/run-summaries.js';
import { shouldColor } from '../../render/ansi.js';
import { renderRunList } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import type { RunStatus } from '../../core/tracker/types.js';

export default class RunsList extends BaseCommand {
  static override summary = 'List recorded runs, newest first, with stage counts and headline metrics.';
  static override examples = ['<%= config.bin %> runs list', '<%= config.bin %> runs list --pipeline iris --status failed --limit 5', '<%= config.bin %> runs list --json'];
  static override flags = {
    pipeline: Flags.string({ description: 'Only runs of this pipeline.' }),
    status: Flags.string({ description: 'Only runs with this status.', options: ['running', 'completed', 'failed', 'interrupted'] }),
    limit: Flags.integer({ description: 'At most this many runs.', default: 20, min: 1 }),
  };

  async run(): Promise<{ schemaVersion: 1; runs: RunListItem[] }> {
    const { flags } = await this.parse(RunsList);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const runs = await listRunSummaries(tracker, { pipeline: flags.pipeline, status: flags.status as RunStatus | undefined, limit: flags.limit });
      this.out(renderRunList(runs, { color: shouldColor(process.stdout) }));
      return { schemaVersion: 1, runs };
    } finally {
      await tracker.close();
    }
  }
}
