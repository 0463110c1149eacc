import { BaseCommand } from '../../cli/base-command.js';
import { remoteRows, type RemoteRow } from '../../app/config/effective-settings.js';
import { renderRemoteList } from '../../render/config.js';

export default class RemoteList extends BaseCommand {
  static override summary = 'List the remotes of mlpipe.yaml (* marks the default).';
  static override examples = ['<%= config.bin %> remote list', '<%= config.bin %> remote list --json'];

  async run(): Promise<{ schemaVersion: 1; remotes: RemoteRow[] }> {
    await this.parse(RemoteList);
    const remotes = remoteRows(this.projectConfig());
    this.out(renderRemoteList(remotes));
    return { schemaVersion: 1, remotes };
  }
}
