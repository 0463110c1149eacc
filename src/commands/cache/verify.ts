import { BaseCommand } from '../../cli/base-command.js';
import { verifyCacheIn, type CacheVerifyResult } from '../../app/gc/verify-cache.js';

export default class CacheVerify extends BaseCommand {
  static override summary = 'Check every cache object against its hash and every manifest; quarantine what is corrupt.';
  static override description = `Hashes every object in runs/cache/objects and compares it with its name, and reads every manifest. A corrupt object, an unreadable manifest and a manifest whose objects are missing are moved to runs/cache/quarantine/; the stages they belong to then run again instead of being restored. Restoring a cached stage checks the hashes of its own objects in the same way.

EXIT CODES
0 every object and manifest is sound
1 something was corrupt (and has been quarantined), or the cache could not be read`;
  static override examples = ['<%= config.bin %> cache verify', '<%= config.bin %> cache verify --json'];

  async run(): Promise<CacheVerifyResult> {
    const { flags } = await this.parse(CacheVerify);
    const result = await verifyCacheIn(this.runsDir(flags['runs-dir']));
    for (const p of result.problems) {
      this.out(`${p.kind === 'object' ? 'corrupt object' : p.kind === 'manifest' ? 'bad manifest' : 'incomplete manifest'} ${p.id}: ${p.detail}${p.quarantinedTo ? `\n  moved to ${p.quarantinedTo}` : ''}`);
    }
    this.out(`${result.objects} object(s), ${result.manifests} manifest(s) checked: ${result.ok ? 'all sound' : `${result.problems.length} problem(s), quarantined`}`);
    if (!result.ok) this.setExitCode(1);
    return result;
  }
}
