import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadSpecOrThrow, specArg } from '../cli/spec-flags.js';
import { unlockWorkspace, type UnlockResult } from '../core/run/unlock-workspace.js';

export default class Unlock extends BaseCommand {
  static override summary = 'Free the workspace lock of a pipeline whose holder died; refuses while the holder is alive.';
  static override description = `Runs that write files in the workspace take turns under a lock (runs/locks/). The kernel releases it when its holder dies, but commands a killed run left running still hold it: unlock stops them (as a waiting run would), marks the dead run interrupted, and clears the lock's record. It also marks every other running run whose process is gone interrupted, so that none pins gc's cutoff.

Safety check: a lock whose mlpipe process is alive is never broken; unlock names the holder (run, pid, host, since) and exits 2. Where there are no kernel locks (flock(1) missing, e.g. macOS), a lock file written on another host cannot be checked from here and is only removed with --force.

EXIT CODES
0 the lock is free (it was, or it has been freed)
2 the holder is alive (or, without kernel locks, on another host and --force was not given); nothing was changed`;
  static override examples = ['<%= config.bin %> unlock pipeline.yaml', '<%= config.bin %> unlock pipeline.yaml --json'];
  static override args = specArg;
  static override flags = {
    force: Flags.boolean({ description: 'Without kernel locks: remove a lock file taken on another host (check that its process is gone first).', default: false }),
  };

  async run(): Promise<UnlockResult> {
    const { args, flags } = await this.parse(Unlock);
    const spec = await loadSpecOrThrow(args.spec, {});
    const result = await unlockWorkspace(spec, { runsDir: this.runsDir(flags['runs-dir']), force: flags.force });
    for (const message of result.stopped) this.out(message);
    this.out(result.state === 'released' ? `freed the workspace lock left by ${result.holder}` : `the workspace lock of ${spec.name} is free`);
    if (result.interrupted.length > 0) this.out(`marked interrupted (their process is gone): ${result.interrupted.join(', ')}`);
    return result;
  }
}
