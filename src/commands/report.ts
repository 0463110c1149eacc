import { Args, Flags } from '@oclif/core';
import { writeAtomic } from '../core/fs/write-atomic.js';
import { resolve } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { openExistingTracker } from '../core/tracker/open-tracker.js';
import type { Report } from '../render/report/build-report.js';

export default class ReportCommand extends BaseCommand {
  static override summary = 'Write one self-contained HTML report: compare table, learning curves, confusion matrices and params.';
  static override description = 'Charts are rendered to inline SVG with Vega-Lite; the file needs no network to view. With no run named, reports the last 5 runs of the most recent pipeline.';
  static override strict = false;
  static override examples = ['<%= config.bin %> report r-7f3a r-51c0 --out report.html', '<%= config.bin %> report --last 3 --out runs/report.html'];
  static override args = { runs: Args.string({ description: 'Run ids or unambiguous prefixes (any number).' }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'The HTML file to write.', default: 'report.html' }),
    last: Flags.integer({ description: 'Report the newest N runs (default 5 when no run is named).', min: 1 }),
    pipeline: Flags.string({ description: 'Take --last runs of this pipeline (default: the newest run’s).' }),
    filter: Flags.string({ char: 'f', description: "Report the newest runs (--last, default 20) matching this condition of runs list --filter, e.g. \"metrics.evaluate.accuracy >= 0.9\"." }),
    baseline: Flags.string({ description: 'The run deltas are measured against; default: the first named, or the oldest.' }),
    metric: Flags.string({ description: 'Only this metric (repeatable).', multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<Omit<Report, 'html'> & { out: string }> {
    const { argv, flags } = await this.parse(ReportCommand);
    const [{ buildReport }, { cacheArtifactReader }, { openLocalStore }] = await Promise.all([
      import('../render/report/build-report.js'),
      import('../app/report/confusion-matrix.js'),
      import('../core/store/local-store.js'),
    ]);
    const runsDir = this.runsDir(flags['runs-dir']);
    const tracker = await openExistingTracker(runsDir);
    let report: Report;
    try {
      report = await buildReport(tracker, { refs: argv as string[], last: flags.last, pipeline: flags.pipeline, filter: flags.filter, baseline: flags.baseline, metrics: flags.metric }, cacheArtifactReader(openLocalStore(runsDir)));
    } finally {
      await tracker.close();
    }
    const out = resolve(flags.out);
    await writeAtomic(out, report.html);
    const { html: _html, ...summary } = report;
    this.out(`wrote ${flags.out}: ${summary.runs.length} runs, ${summary.charts.length} charts`);
    return { ...summary, out };
  }
}
