import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renderModelDetails } from '../../render/models.js';
import { showModel, type ModelDetails } from '../../app/models/model-views.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsShow extends BaseCommand {
  static override summary = 'Show one registered version: aliases, source run, metrics, the input it expects and an example request.';
  static override examples = ['<%= config.bin %> models show iris@production', '<%= config.bin %> models show iris@2 --json', '<%= config.bin %> models show iris'];
  static override args = {
    model: Args.string({ description: 'NAME@VERSION, NAME@ALIAS, or NAME for the newest version.', required: true }),
  };

  async run(): Promise<ModelDetails> {
    const { args, flags } = await this.parse(ModelsShow);
    const ref = parseModelRef(args.model);
    const runsDir = this.runsDir(flags['runs-dir']);
    const tracker = await openExistingTracker(runsDir);
    try {
      const details = await showModel(tracker, runsDir, ref);
      this.out(renderModelDetails(details));
      return details;
    } finally {
      await tracker.close();
    }
  }
}
