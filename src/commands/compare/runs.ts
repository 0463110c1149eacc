import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { exitCodeOf } from '../../errors.js';
import { compareRuns, type CompareResult } from '../../app/compare/compare-runs.js';
import { shouldColor } from '../../render/ansi.js';
import { renderComparison, type CompareFormat } from '../../render/comparison.js';
import { describeFailures } from '../../app/compare/fail-if.js';
import { renderSweep, sweepCsv } from '../../render/sweep.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class CompareRuns extends BaseCommand {
  static override summary = 'Compare runs side by side: changed params, metric deltas against a baseline, best runs, learning curves.';
  static override description =
    'With no run named, compares the last 5 runs of the most recent pipeline; --sweep/--last-sweep show a sweep as a grid with its best point marked. --fail-if conditions use metric names, `baseline` (the same metric in the baseline run), numbers, + - * / and comparisons; when one holds for any compared run the command exits 3.';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> compare runs --last 3',
    '<%= config.bin %> compare runs r-7f3a r-51c0 --metric accuracy --format markdown',
    '<%= config.bin %> compare runs --last 1 --baseline iris@production --fail-if "accuracy < baseline - 0.01"',
    '<%= config.bin %> compare runs --last-sweep',
    '<%= config.bin %> compare runs --sweep s-1a2b --metric val_loss --format markdown',
  ];
  static override args = { runs: Args.string({ description: 'Run ids or unambiguous prefixes (any number).' }) };
  static override flags = {
    last: Flags.integer({ description: 'Compare the newest N runs (default 5 when no run is named).', min: 1 }),
    pipeline: Flags.string({ description: 'Take --last runs (or --last-sweep) of this pipeline (default: the newest run’s).' }),
    filter: Flags.string({ char: 'f', description: "Compare the newest runs (--last, default 20) matching this condition of runs list --filter, e.g. \"params.lr < 0.01 and tags.owner = 'ana'\"." }),
    sweep: Flags.string({ description: 'Compare the runs of this sweep (id or unambiguous prefix) as a grid, the best point marked.', exclusive: ['last-sweep', 'last'] }),
    'last-sweep': Flags.boolean({ description: 'Compare the runs of the newest sweep as a grid, the best point marked.', default: false, exclusive: ['sweep', 'last'] }),
    baseline: Flags.string({ description: 'The run deltas are measured against (id, prefix or MODEL@ALIAS); default: the first named, or the oldest.' }),
    metric: Flags.string({ description: 'Only this metric (repeatable; stage.key or an unambiguous key).', multiple: true, multipleNonGreedy: true }),
    sort: Flags.string({ description: 'Order runs best-first by this metric (for a sweep: the metric that picks the best point).' }),
    'only-changed': Flags.boolean({ description: 'Only params whose values differ.', default: false }),
    format: Flags.string({ description: 'Output format.', options: ['table', 'json', 'markdown', 'csv'], default: 'table' }),
    'fail-if': Flags.string({ description: 'Exit 3 when this condition holds for a compared run, e.g. "accuracy < baseline - 0.01" (repeatable).', multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<CompareResult> {
    const { argv, flags } = await this.parse(CompareRuns);
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    let result: CompareResult;
    try {
      result = await compareRuns(tracker, {
        refs: argv as string[],
        last: flags.last,
        pipeline: flags.pipeline,
        filter: flags.filter,
        sweep: flags.sweep,
        lastSweep: flags['last-sweep'],
        baseline: flags.baseline,
        metrics: flags.metric,
        sort: flags.sort,
        onlyChanged: flags['only-changed'],
        failIf: flags['fail-if'] ?? [],
      });
    } finally {
      await tracker.close();
    }
    const format = flags.format as CompareFormat | 'json';
    if (format === 'json' && !this.jsonEnabled()) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (format !== 'json') {
      const opts = { color: format === 'table' && shouldColor(process.stdout), conditions: result.conditions };
      if (!result.sweep) this.out(renderComparison(result, format, opts));
      else this.out(format === 'csv' ? sweepCsv(result.sweep, result) : renderSweep(result.sweep, result, format, opts));
    }
    for (const warning of result.conditions.flatMap((c) => (c.warning ? [c.warning] : []))) this.note(`warning: ${warning}`);
    const failures = describeFailures(result.conditions, result);
    if (failures.length && !this.jsonEnabled()) this.note(failures.join('\n'));
    this.setExitCode(exitCodeOf({ gatesFailed: failures.length }));
    return result;
  }
}
