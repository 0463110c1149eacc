import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { shouldColor } from '../../render/ansi.js';
import { renderModelList } from '../../render/models.js';
import { listModelItems, type ModelListItem } from '../../app/models/model-views.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsList extends BaseCommand {
  static override summary = 'List registered model versions with their aliases, source run and key metrics.';
  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list iris --json'];
  static override args = { name: Args.string({ description: 'Only versions of this model.' }) };

  async run(): Promise<{ schemaVersion: 1; models: ModelListItem[] }> {
    const { args, flags } = await this.parse(ModelsList);
    const name = args.name === undefined ? undefined : parseModelRef(args.name).name;
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const models = await listModelItems(tracker, name);
      this.out(renderModelList(models, { color: shouldColor(process.stdout), name }));
      return { schemaVersion: 1, models };
    } finally {
      await tracker.close();
    }
  }
}
