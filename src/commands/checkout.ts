import { Args, Flags } from '@oclif/core';
import { relative } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { withInterrupts } from '../cli/interrupts.js';
import { checkoutRun, type CheckoutResult } from '../app/checkout/checkout-run.js';

export default class Checkout extends BaseCommand {
  static override summary = "Bring one run's outputs into the workspace from the cache (DVC's exp apply).";
  static override description = `Shell stages' outs are written at their paths in the pipeline's folder, built-in stages' outputs in runs/<run>/<stage>/, each object verified first: the files are byte-identical to what the run produced. Sweep points (and runs with --isolated) run in temporary workspaces and leave the workspace untouched; this is how one point's outputs come back. Files at those paths are replaced.

EXIT CODES
0 done (stages whose outputs are not in the cache, e.g. cache: false ones, are listed with the reason)
2 unknown run or stage, or a cached object is missing or corrupt`;
  static override examples = ['<%= config.bin %> checkout r-7f3a1b', '<%= config.bin %> checkout r-7f3a1b --stage report', '<%= config.bin %> compare runs --last-sweep   # pick a point, then: mlpipe checkout RUN'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS for the run that produced it.', required: true }),
  };
  static override flags = {
    stage: Flags.string({ description: 'Only this stage (repeatable).', multiple: true }),
  };

  async run(): Promise<CheckoutResult> {
    const { args, flags } = await this.parse(Checkout);
    const result = await withInterrupts((signal) => checkoutRun(this.runsDir(flags['runs-dir']), args.run, { stages: flags.stage, signal }));
    const lines = result.restored.map((r) => `  ${r.stage}  ${r.output}  → ${relative(process.cwd(), r.path) || r.path}`);
    const skipped = result.skipped.map((s) => `  ${s.stage}: not checked out, ${s.reason}`);
    this.out([`checked out ${result.restored.length} output${result.restored.length === 1 ? '' : 's'} of run ${result.runId} (${result.pipeline})`, ...lines, ...skipped].join('\n'));
    return result;
  }
}
