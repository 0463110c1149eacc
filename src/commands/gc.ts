import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { collectGarbageIn, collectRemoteGarbage, GC_SLACK_MS, type GcPin, type GcResult } from '../app/gc/collect-garbage.js';
import { connectRemote, remoteNameFlag } from '../cli/remote-flags.js';
import { formatBytes } from '../render/bytes.js';

export default class Gc extends BaseCommand {
  static override summary = 'Drop cache objects and manifests that no kept run and no registered model needs.';
  static override description = `A run is kept while it is running, while its folder runs/<id>/ exists, or when a registered model version came from it. To let a run go, delete its folder (its tracker records stay); then gc drops the cache entries only it used. Objects a kept run's stages executed or restored are never removed.

Safe while other runs go on: nothing stored or used after the cutoff is removed. The cutoff is the start of the oldest running run or of gc itself, whichever is earlier, less ${GC_SLACK_MS / 1000} s; a run renews the mtime of every object it stores or restores, and gc checks it again after renaming a file aside. A concurrent run at worst finds an entry it meant to restore gone and runs that stage instead.

Also removes temp files that killed runs left in the cache, the remembered lock files (cache/lock-memo/) whose lock file is gone or changed, and the no-op run memos (cache/run-memo/) whose inputs, outputs or cache entries changed. Quarantined objects (cache/quarantine/) are left for you to inspect and delete.

With --remote NAME it cleans that remote instead (never without asking; the local cache is left alone): entries no kept run of this tracker references are removed, then objects no remaining entry names. Runs of other hosts are kept (their folders cannot be seen from here), and so is every entry made by a run this tracker does not know, so a local tracker never removes a teammate's entries; with a shared tracker (PostgreSQL) the whole team's runs count. Try it with --dry first.

EXIT CODES
0 done (or, with --dry, reported)
1 the cache or tracker could not be read or written
2 the remote does not answer (or its bucket or credentials are missing)`;
  static override examples = ['<%= config.bin %> gc --dry', '<%= config.bin %> gc', '<%= config.bin %> gc --json', '<%= config.bin %> gc --remote origin --dry'];
  static override flags = {
    dry: Flags.boolean({ description: 'Only report what would be removed.', default: false }),
    remote: remoteNameFlag,
  };

  async run(): Promise<GcResult & { remote?: string }> {
    const { flags } = await this.parse(Gc);
    const runsDir = this.runsDir(flags['runs-dir']);
    const remote = flags.remote ? await connectRemote(this.projectConfig({ remote: flags.remote }), 'read') : undefined;
    const result = remote ? { ...(await collectRemoteGarbage(runsDir, remote, { dry: flags.dry })), remote: remote.location } : await collectGarbageIn(runsDir, { dry: flags.dry });
    const verb = result.dry ? 'would remove' : 'removed';
    this.out(
      [
        ...(remote ? [`remote ${remote.location}`] : []),
        `runs kept: ${result.runs.kept} of ${result.runs.total} (${result.runs.running} running, ${result.runs.withFolder} with a folder, ${result.runs.withModel} with a registered model${result.runs.deleted ? `; ${result.runs.deleted} deleted, kept by nothing` : ''})`,
        `manifests: ${verb} ${result.manifests.removed}, kept ${result.manifests.kept}${result.manifests.unknownRun ? ` (${result.manifests.unknownRun} made by runs this tracker does not know)` : ''}, too recent to touch ${result.manifests.young}`,
        `objects: ${verb} ${result.objects.removed} (${formatBytes(result.objects.bytesRemoved)}), kept ${result.objects.kept}, too recent to touch ${result.objects.young}`,
        ...(result.pinnedBy ? [pinLine(result.pinnedBy)] : []),
        ...(result.staleTemps > 0 ? [`temp files of killed runs removed: ${result.staleTemps}`] : []),
        ...(result.lockMemos?.removed ? [`lock-file memos of moved, deleted or changed lock files: ${verb} ${result.lockMemos.removed}, kept ${result.lockMemos.kept}`] : []),
        ...(result.runMemos?.removed ? [`no-op run memos that no longer hold: ${verb} ${result.runMemos.removed}, kept ${result.runMemos.kept}`] : []),
      ].join('\n'),
    );
    return result;
  }
}

function pinLine(p: GcPin): string {
  const beat = p.heartbeatAt ? `, last heartbeat ${p.heartbeatAt}` : '';
  return `cutoff pinned by running run ${p.runId} of ${p.pipeline} (pid ${p.pid} on ${p.host}, started ${p.startedAt}${beat}): what was stored or used since then is kept; if that run is stuck, stop it (kill ${p.pid} on ${p.host}); a run whose process is gone is marked interrupted by gc and by mlpipe unlock`;
}
