import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ExitCode } from '../exit-codes.js';

export default class Ui extends BaseCommand {
  static override summary = 'Serve a live dashboard of the runs folder in the browser: runs table, compare view, run pages, models.';
  static override description = [
    'Opens the tracker and cache of the runs folder and serves the dashboard (built into the package; nothing is fetched',
    'from the network). New runs, finished stages and alias moves appear without a reload. Promote and rollback on the',
    'models page call the same functions as `mlpipe models promote|rollback`; --read-only turns them off.',
    'SIGTERM or Ctrl-C stops the server.',
  ].join('\n');
  static override examples = ['<%= config.bin %> ui', '<%= config.bin %> ui --port 8000 --read-only', '<%= config.bin %> ui --runs-dir /mnt/team/runs --host 0.0.0.0'];
  static override flags = {
    host: Flags.string({ description: 'Address to bind.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port to listen on (0: any free port).', default: 5000, min: 0, max: 65535 }),
    'read-only': Flags.boolean({ description: 'Disable promote and rollback.', default: false }),
    'poll-interval': Flags.integer({ description: 'Milliseconds between checks of the tracker for live updates.', default: 1000, min: 100 }),
  };

  async run(): Promise<{ url: string; runs: number }> {
    const { flags } = await this.parse(Ui);
    const [{ startUi }, { untilSignal }] = await Promise.all([import('../serve/ui/start-ui.js'), import('../serve/shutdown.js')]);
    const signals = untilSignal(['SIGTERM', 'SIGINT'], () => process.exit(ExitCode.Interrupted));
    try {
      const ui = await startUi({
        runsDir: this.runsDir(flags['runs-dir']),
        host: flags.host,
        port: flags.port,
        readOnly: flags['read-only'],
        pollMs: flags['poll-interval'],
        onInternalError: (err) => this.note(`internal error: ${flags.verbose ? (err.stack ?? err.message) : err.message}`),
      });
      this.note(`mlpipe ui: ${ui.runs} runs at ${ui.url}${flags['read-only'] ? ' (read-only)' : ''}`);
      await signals.received;
      await ui.close();
      return { url: ui.url, runs: ui.runs };
    } finally {
      signals.dispose();
    }
  }
}
