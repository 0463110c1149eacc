import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { setConfigValue } from '../../core/config/edit-config.js';

export default class ConfigSet extends BaseCommand {
  static override summary = 'Set a key of mlpipe.yaml (creating the file at the project root when there is none), keeping its comments.';
  static override description = 'The file is checked before it is written: a bad value or a secret (a password, an S3 secret key) is refused and the file stays as it was.';
  static override examples = [
    '<%= config.bin %> config set tracker postgresql://ana@db.internal:5432/mlpipe',
    '<%= config.bin %> config set remotes.origin.endpoint http://127.0.0.1:9000',
    '<%= config.bin %> config set autopush true',
  ];
  static override args = {
    key: Args.string({ description: 'tracker, default_remote, autopush, executor, queue, queue_prefix or remotes.NAME.KEY', required: true }),
    value: Args.string({ description: 'The value (true/false for autopush and path_style).', required: true }),
  };

  async run(): Promise<{ file: string; created: boolean; key: string; value: string }> {
    const { args } = await this.parse(ConfigSet);
    const result = setConfigValue(args.key, args.value);
    this.note(`${result.created ? 'created' : 'updated'} ${result.file}: ${args.key} = ${args.value}`);
    return { file: result.file, created: result.created, key: args.key, value: args.value };
  }
}
