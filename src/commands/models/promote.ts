import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { promoteModel, type AliasMove } from '../../app/models/aliases.js';
import { renderAliasMove } from '../../render/models.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsPromote extends BaseCommand {
  static override summary = 'Point an alias (production by default) at a version; servers following the alias switch to it.';
  static override examples = ['<%= config.bin %> models promote iris@3 --alias production', '<%= config.bin %> models promote iris@staging --alias production --json'];
  static override args = {
    model: Args.string({ description: 'NAME@VERSION (or NAME@ALIAS to copy that alias\'s version).', required: true }),
  };
  static override flags = {
    alias: Flags.string({ description: 'The alias to move.', default: 'production' }),
  };

  async run(): Promise<AliasMove> {
    const { args, flags } = await this.parse(ModelsPromote);
    const ref = parseModelRef(args.model);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const move = await promoteModel(tracker, ref, flags.alias);
      this.out(renderAliasMove(move, 'promoted'));
      return move;
    } finally {
      await tracker.close();
    }
  }
}
