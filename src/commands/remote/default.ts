import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { setDefaultRemote } from '../../core/config/edit-config.js';

export default class RemoteDefault extends BaseCommand {
  static override summary = 'Make a remote of mlpipe.yaml the default (used when --remote / MLPIPE_REMOTE name none).';
  static override examples = ['<%= config.bin %> remote default origin'];
  static override args = { name: Args.string({ description: 'The remote\'s name.', required: true }) };

  async run(): Promise<{ file: string; name: string }> {
    const { args } = await this.parse(RemoteDefault);
    const result = setDefaultRemote(args.name);
    this.note(`default remote: ${args.name} (${result.file})`);
    return { file: result.file, name: args.name };
  }
}
