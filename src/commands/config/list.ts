import { BaseCommand } from '../../cli/base-command.js';
import { configReport, type ConfigReport } from '../../app/config/effective-settings.js';
import { renderConfigReport } from '../../render/config.js';

export default class ConfigList extends BaseCommand {
  static override summary = 'Show each effective setting (tracker, remote, executor, queue, …) and where it came from: flag, env, mlpipe.yaml or default.';
  static override description = `Settings come from the command's flag, else the environment (MLPIPE_TRACKER, MLPIPE_REMOTE, MLPIPE_EXECUTOR, MLPIPE_QUEUE, MLPIPE_QUEUE_PREFIX, MLPIPE_AUTOPUSH), else mlpipe.yaml (the nearest one in this folder or above), else the default. Checks mlpipe.yaml too: each problem is reported at its file:line:col.`;
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json'];

  async run(): Promise<ConfigReport> {
    const { flags } = await this.parse(this.constructor as typeof ConfigList);
    const report = configReport(this.projectConfig(), this.runsDir(flags['runs-dir']));
    this.out(renderConfigReport(report));
    return report;
  }
}
