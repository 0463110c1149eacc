import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { removeModelAlias, type AliasRemoval } from '../../app/models/aliases.js';
import { renderAliasRemoval } from '../../render/models.js';
import { parseModelRef } from '../../app/models/model-ref.js';
import { UserError } from '../../errors.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class ModelsUnalias extends BaseCommand {
  static override summary = 'Remove an alias from a model; the version it pointed at stays registered.';
  static override description = 'A server following the alias keeps serving the version it has loaded. The alias can be set again with models promote; a rollback does not reach back past the removal.';
  static override examples = ['<%= config.bin %> models unalias iris@staging', '<%= config.bin %> models unalias iris --alias canary --json'];
  static override args = { name: Args.string({ description: 'NAME@ALIAS, or the model name with --alias.', required: true }) };
  static override flags = {
    alias: Flags.string({ description: 'The alias to remove (when the argument is a bare name).' }),
  };

  async run(): Promise<AliasRemoval> {
    const { args, flags } = await this.parse(ModelsUnalias);
    const ref = parseModelRef(args.name);
    if (ref.selector.kind === 'version') throw new UserError(`models unalias removes an alias, got the version reference "${args.name}"`, { hint: `mlpipe models unalias ${ref.name}@ALIAS (list aliases with: mlpipe models list ${ref.name})` });
    if (ref.selector.kind === 'alias' && flags.alias !== undefined && flags.alias !== ref.selector.alias) throw new UserError(`"${args.name}" names the alias ${ref.selector.alias} but --alias says ${flags.alias}`, { hint: `mlpipe models unalias ${ref.name}@${flags.alias}` });
    const alias = ref.selector.kind === 'alias' ? ref.selector.alias : flags.alias;
    if (alias === undefined) throw new UserError(`which alias of ${ref.name} should go?`, { hint: `mlpipe models unalias ${ref.name}@ALIAS (or ${ref.name} --alias ALIAS)` });
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const removal = await removeModelAlias(tracker, ref.name, alias);
      this.out(renderAliasRemoval(removal));
      return removal;
    } finally {
      await tracker.close();
    }
  }
}
