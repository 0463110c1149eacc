import { BaseCommand } from '../../cli/base-command.js';
import { verifyCacheIn, type CacheProblem, type CacheVerifyResult } from '../../app/gc/verify-cache.js';

const PROBLEM: Record<CacheProblem['kind'], string> = { object: 'corrupt object', manifest: 'bad manifest', incomplete: 'incomplete manifest', model: 'changed model', tracker: 'damaged tracker', 'unknown-run': 'entry of an unknown run' };

export default class CacheVerify extends BaseCommand {
  static override summary = 'Check every cache object against its hash and every manifest; quarantine what is corrupt.';
  static override description = `Hashes every object in runs/cache/objects and compares it with its name, and reads every manifest. A corrupt object, an unreadable manifest and a manifest whose objects are missing are moved to runs/cache/quarantine/; the stages they belong to then run again instead of being restored. Restoring a cached stage checks the hashes of its own objects in the same way. Every registered model version is hashed and compared with the digest recorded when it was registered; a changed one is reported (serve and predict refuse to load it; deploying the same model again restores its files).

EXIT CODES
0 every object and manifest is sound
1 something was corrupt (cache entries quarantined, changed models reported), or the cache could not be read`;
  static override examples = ['<%= config.bin %> cache verify', '<%= config.bin %> cache verify --json'];

  async run(): Promise<CacheVerifyResult> {
    const { flags } = await this.parse(CacheVerify);
    const result = await verifyCacheIn(this.runsDir(flags['runs-dir']));
    for (const p of result.problems) {
      this.out(`${PROBLEM[p.kind]} ${p.id}: ${p.detail}${p.quarantinedTo ? `\n  moved to ${p.quarantinedTo}` : ''}`);
    }
    this.out(`${result.objects} object(s), ${result.manifests} manifest(s), ${result.models} model version(s) checked: ${result.ok ? 'all sound' : `${result.problems.length} problem(s)`}`);
    if (!result.ok) this.setExitCode(1);
    return result;
  }
}
