import { BaseCommand } from '../cli/base-command.js';
import { connectRemote, progressLine, transferArgs, transferFlags, transferSelection } from '../cli/remote-flags.js';
import { pullEntries, type TransferResult } from '../app/remote/transfer.js';
import { renderTransfer } from '../render/transfer.js';

export default class Pull extends BaseCommand {
  static override summary = "Fetch cache entries from the remote: a pipeline's current outputs, a run's, or all (DVC's pull).";
  static override description = `Fetches each selected entry the local cache lacks, every object checked against its digest before it is used (a corrupt one is refused). For a pipeline, its shell stages' outs are then written into the workspace, and the next mlpipe run restores every pulled stage instead of running it. mlpipe run --pull does both in one step.

A pipeline's entries are found by its current inputs; a stage whose current inputs have no entry but which its lock file (pipeline.lock) names gets the locked entry into the local cache, its outs left as they are. A stage whose key is on neither the remote nor the local cache is listed as not on the remote.

EXIT CODES
0 done (stages not on the remote are listed)
2 no remote, the remote does not answer (or its bucket or credentials are missing), an unknown run, or an invalid spec`;
  static override examples = [
    '<%= config.bin %> pull',
    '<%= config.bin %> pull pipelines/iris/pipeline.yaml --remote origin',
    '<%= config.bin %> pull --run r-7f3a1b && <%= config.bin %> checkout r-7f3a1b',
    '<%= config.bin %> pull --all --json',
  ];
  static override args = transferArgs;
  static override flags = transferFlags;

  async run(): Promise<TransferResult> {
    const { args, flags } = await this.parse(Pull);
    const config = this.projectConfig({ remote: flags.remote });
    const remote = await connectRemote(config, 'read');
    const selection = await transferSelection(args.spec, flags);
    const progress = progressLine('pull', this.jsonEnabled());
    const result = await pullEntries({ runsDir: this.runsDir(flags['runs-dir']), remote, selection, cacheTypes: config.cacheTypes, jobs: flags.jobs, onProgress: progress.onProgress, onWarning: (m) => this.note(`warning: ${m}`) }).finally(() => progress.done());
    this.out(renderTransfer(result));
    return result;
  }
}
