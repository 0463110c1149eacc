import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { describeModelVersion, type ModelDescription } from '../../app/models/describe-model.js';
import { renderModelDescription } from '../../render/models.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsDescribe extends BaseCommand {
  static override summary = 'Set the description of a registered version (shown by models list and show); empty text clears it.';
  static override examples = ['<%= config.bin %> models describe iris@2 "lr 0.02, trained on the March data"', '<%= config.bin %> models describe iris@production ""'];
  static override args = {
    model: Args.string({ description: 'NAME@VERSION, NAME@ALIAS, or NAME for the newest version.', required: true }),
    text: Args.string({ description: 'The description ("" clears it).', required: true }),
  };

  async run(): Promise<ModelDescription> {
    const { args, flags } = await this.parse(ModelsDescribe);
    const ref = parseModelRef(args.model);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const result = await describeModelVersion(tracker, ref, args.text);
      this.out(renderModelDescription(result));
      return result;
    } finally {
      await tracker.close();
    }
  }
}
