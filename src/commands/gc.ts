import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { collectGarbageIn, GC_SLACK_MS, type GcPin, type GcResult } from '../app/gc/collect-garbage.js';
import { formatBytes } from '../render/bytes.js';

export default class Gc extends BaseCommand {
  static override summary = 'Drop cache objects and manifests that no kept run and no registered model needs.';
  static override description = `A run is kept while it is running, while its folder runs/<id>/ exists, or when a registered model version came from it. To let a run go, delete its folder (its tracker records stay); then gc drops the cache entries only it used. Objects a kept run's stages executed or restored are never removed.

Safe while other runs go on: nothing stored or used after the cutoff is removed. The cutoff is the start of the oldest running run or of gc itself, whichever is earlier, less ${GC_SLACK_MS / 1000} s; a run renews the mtime of every object it stores or restores, and gc checks it again after renaming a file aside. A concurrent run at worst finds an entry it meant to restore gone and runs that stage instead.

Also removes temp files that killed runs left in the cache. Quarantined objects (cache/quarantine/) are left for you to inspect and delete.

EXIT CODES
0 done (or, with --dry, reported)
1 the cache or tracker could not be read or written`;
  static override examples = ['<%= config.bin %> gc --dry', '<%= config.bin %> gc', '<%= config.bin %> gc --json'];
  static override flags = {
    dry: Flags.boolean({ description: 'Only report what would be removed.', default: false }),
  };

  async run(): Promise<GcResult> {
    const { flags } = await this.parse(Gc);
    const result = await collectGarbageIn(this.runsDir(flags['runs-dir']), { dry: flags.dry });
    const verb = result.dry ? 'would remove' : 'removed';
    this.out(
      [
        `runs kept: ${result.runs.kept} of ${result.runs.total} (${result.runs.running} running, ${result.runs.withFolder} with a folder, ${result.runs.withModel} with a registered model)`,
        `manifests: ${verb} ${result.manifests.removed}, kept ${result.manifests.kept}, too recent to touch ${result.manifests.young}`,
        `objects: ${verb} ${result.objects.removed} (${formatBytes(result.objects.bytesRemoved)}), kept ${result.objects.kept}, too recent to touch ${result.objects.young}`,
        ...(result.pinnedBy ? [pinLine(result.pinnedBy)] : []),
        ...(result.staleTemps > 0 ? [`temp files of killed runs removed: ${result.staleTemps}`] : []),
      ].join('\n'),
    );
    return result;
  }
}

function pinLine(p: GcPin): string {
  const beat = p.heartbeatAt ? `, last heartbeat ${p.heartbeatAt}` : '';
  return `cutoff pinned by running run ${p.runId} of ${p.pipeline} (pid ${p.pid} on ${p.host}, started ${p.startedAt}${beat}): what was stored or used since then is kept; if that run is stuck, stop it (kill ${p.pid} on ${p.host}); a run whose process is gone is marked interrupted by gc and by mlpipe unlock`;
}
