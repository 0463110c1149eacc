import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { runDetails, type RunDetails } from '../../app/compare/run-summaries.js';
import { shouldColor } from '../../render/ansi.js';
import { renderRunDetails } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { openLocalStore } from '../../core/store/local-store.js';
import { listRunOutputs, type RunOutput } from '../../app/runs/run-outputs.js';

export default class RunsShow extends BaseCommand {
  static override summary = 'Show one run: name, tags and note, params, stages with cache source and timing, metrics, its outputs (fetch one with runs get), errors.';
  static override examples = ['<%= config.bin %> runs show r-7f3a1b', '<%= config.bin %> runs show iris@production --json'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS for the run that produced it.', required: true }),
  };

  async run(): Promise<RunDetails & { outputs: RunOutput[] }> {
    const { args, flags } = await this.parse(RunsShow);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const run = await runDetails(tracker, args.run);
      const runsDir = this.runsDir(flags['runs-dir']);
      const details = { ...run, outputs: await listRunOutputs(tracker, { runsDir, store: openLocalStore(runsDir) }, run.run.id) };
      this.out(renderRunDetails(details, { color: shouldColor(process.stdout) }));
      return details;
    } finally {
      await tracker.close();
    }
  }
}
