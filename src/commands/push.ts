import { BaseCommand } from '../cli/base-command.js';
import { connectRemote, progressLine, transferArgs, transferFlags, transferSelection } from '../cli/remote-flags.js';
import { pushEntries, type TransferResult } from '../app/remote/transfer.js';
import { renderTransfer } from '../render/transfer.js';

export default class Push extends BaseCommand {
  static override summary = "Send cache entries to the remote: a pipeline's current outputs, a run's, or all (DVC's push).";
  static override description = `Sends each selected entry the remote lacks: its objects (only those the remote does not hold, a few at once), then its manifest, so a teammate never sees an entry whose files are missing. A push that is interrupted leaves objects without manifests; the next push sends only what did not arrive.

A pipeline's entries are those its stages would be restored from now (as mlpipe run --dry shows); a stage with no entry for its current inputs is listed as not cached (run it first).

EXIT CODES
0 done (stages that are not cached are listed)
2 no remote, the remote does not answer (or its bucket or credentials are missing), an unknown run, or an invalid spec`;
  static override examples = [
    '<%= config.bin %> push',
    '<%= config.bin %> push pipelines/iris/pipeline.yaml --remote origin',
    '<%= config.bin %> push --run r-7f3a1b',
    '<%= config.bin %> push --all --json',
  ];
  static override args = transferArgs;
  static override flags = transferFlags;

  async run(): Promise<TransferResult> {
    const { args, flags } = await this.parse(Push);
    const remote = await connectRemote(this.projectConfig({ remote: flags.remote }), 'write');
    const selection = await transferSelection(args.spec, flags);
    const progress = progressLine('push', this.jsonEnabled());
    const result = await pushEntries({ runsDir: this.runsDir(flags['runs-dir']), remote, selection, jobs: flags.jobs, onProgress: progress.onProgress, onWarning: (m) => this.note(`warning: ${m}`) }).finally(() => progress.done());
    this.out(renderTransfer(result));
    return result;
  }
}
