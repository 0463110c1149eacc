import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { rollbackModel, type AliasMove } from '../../app/models/aliases.js';
import { renderAliasMove } from '../../render/models.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { UserError } from '../../errors.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsRollback extends BaseCommand {
  static override summary = 'Move an alias back to the version that held it before the last promotion.';
  static override examples = ['<%= config.bin %> models rollback iris --alias production'];
  static override args = { name: Args.string({ description: 'The model name (NAME@ALIAS also names the alias).', required: true }) };
  static override flags = {
    alias: Flags.string({ description: 'The alias to move back.', default: 'production' }),
  };

  async run(): Promise<AliasMove> {
    const { args, flags } = await this.parse(ModelsRollback);
    const ref = parseModelRef(args.name);
    if (ref.selector.kind === 'version') {
      throw new UserError(`a rollback moves an alias back to its previous version, got the version reference "${args.name}"`, {
        hint: `mlpipe models rollback ${ref.name} --alias production (or ${ref.name}@production)`,
      });
    }
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const move = await rollbackModel(tracker, ref.name, ref.selector.kind === 'alias' ? ref.selector.alias : flags.alias);
      this.out(renderAliasMove(move, 'rolled back'));
      return move;
    } finally {
      await tracker.close();
    }
  }
}
