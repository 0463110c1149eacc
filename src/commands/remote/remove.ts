import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { removeRemote } from '../../core/config/edit-config.js';

export default class RemoteRemove extends BaseCommand {
  static override summary = 'Remove a remote from mlpipe.yaml (nothing on the remote itself is deleted).';
  static override examples = ['<%= config.bin %> remote remove minio'];
  static override args = { name: Args.string({ description: 'The remote\'s name.', required: true }) };

  async run(): Promise<{ file: string; name: string; wasDefault: boolean }> {
    const { args } = await this.parse(RemoteRemove);
    const result = removeRemote(args.name);
    this.note(`removed remote ${args.name} from ${result.file}${result.wasDefault ? ' (it was the default: no default remote now)' : ''}`);
    return { file: result.file, name: args.name, wasDefault: result.wasDefault };
  }
}
