import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { settingRow, type SettingRow } from '../../app/config/effective-settings.js';

export default class ConfigGet extends BaseCommand {
  static override summary = 'Print one effective setting (nothing when unset); --json adds where it came from.';
  static override examples = ['<%= config.bin %> config get tracker', '<%= config.bin %> config get remotes.origin.url', '<%= config.bin %> config get executor --json'];
  static override args = { key: Args.string({ description: 'tracker, remote, autopush, executor, queue, queue_prefix, default_remote or remotes.NAME.KEY', required: true }) };

  async run(): Promise<SettingRow> {
    const { args, flags } = await this.parse(ConfigGet);
    const row = settingRow(this.projectConfig(), args.key, this.runsDir(flags['runs-dir']));
    if (row.value !== null) this.out(String(row.value));
    return row;
  }
}
