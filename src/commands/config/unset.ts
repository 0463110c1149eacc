import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { unsetConfigValue } from '../../core/config/edit-config.js';
import { findConfigFile } from '../../core/config/find-config.js';

export default class ConfigUnset extends BaseCommand {
  static override summary = 'Remove a key from mlpipe.yaml (its default, or the environment, applies again), keeping the rest of the file as written.';
  static override examples = ['<%= config.bin %> config unset executor', '<%= config.bin %> config unset remotes.origin.endpoint'];
  static override args = { key: Args.string({ description: 'A key of mlpipe.yaml, e.g. tracker or remotes.NAME.endpoint', required: true }) };

  async run(): Promise<{ file: string | null; key: string; removed: boolean }> {
    const { args } = await this.parse(ConfigUnset);
    if (!findConfigFile()) {
      this.note(`no mlpipe.yaml here or above: ${args.key} is not set`);
      return { file: null, key: args.key, removed: false };
    }
    const result = unsetConfigValue(args.key);
    this.note(result.removed ? `removed ${args.key} from ${result.file}` : `${args.key} is not set in ${result.file}`);
    return { file: result.file, key: args.key, removed: result.removed };
  }
}
