import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { durationFlag } from '../cli/duration-flag.js';
import { shouldColor } from '../render/ansi.js';
import { renderMonitorReport, retrainLines } from '../render/monitor.js';
import { parseModelRef } from '../app/models/model-ref.js';
import { monitorModel, type MonitorReport } from '../app/monitor/monitor-model.js';

export default class Monitor extends BaseCommand {
  static override summary = 'Say whether a served model needs retraining: input drift, predictions and live accuracy from its prediction log.';
  static override description = [
    'Reads the predictions `mlpipe serve` logged (RUNS_DIR/monitor/NAME.sqlite) over the last --since and, for the version',
    'NAME@ALIAS names now, shows per feature the mean against the training statistics (z-score), missing and unseen-category',
    'shares; the predicted class shares (regression: quantiles) next to the test split\'s; and the live accuracy (regression:',
    'MAE) over the predictions that got a true label through POST /feedback. Exits 4 with a "retrain: …" line per reason when',
    'a feature drifted past --max-drift or --max-unknown, or live accuracy fell below --min-accuracy (MAE rose above --max-mae).',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> monitor iris@production --since 1h',
    '<%= config.bin %> monitor iris@production --since 24h --min-accuracy 0.9 --json',
    '<%= config.bin %> monitor iris@production --since 7d --max-drift 0.5 || mlpipe run pipelines/iris/pipeline.yaml',
  ];
  static override args = {
    model: Args.string({ description: 'NAME@ALIAS, NAME@VERSION, or NAME (the newest version).', required: true }),
  };
  static override flags = {
    since: durationFlag('The period to look at, ending now (15m, 1h, 24h, 7d).', '1h'),
    'max-drift': Flags.string({ description: 'Retrain when a numeric feature\'s mean is more than this many training standard deviations from the training mean.', default: '1' }),
    'max-unknown': Flags.string({ description: 'Retrain when more than this share of a categorical feature\'s values are categories unseen in training.', default: '0.1' }),
    'min-accuracy': Flags.string({ description: 'Classification: retrain when the live accuracy over labeled predictions is below this.' }),
    'max-mae': Flags.string({ description: 'Regression: retrain when the live mean absolute error over labeled predictions is above this.' }),
    'min-rows': Flags.integer({ description: 'Fewest predictions in the period for drift to be judged.', default: 30, min: 1 }),
  };

  async run(): Promise<MonitorReport> {
    const { args, flags } = await this.parse(Monitor);
    const number = (name: string, text: string | undefined, min: number, max = Infinity): number | undefined => {
      if (text === undefined) return undefined;
      const x = Number(text);
      if (!(Number.isFinite(x) && x >= min && x <= max)) this.error(`--${name} expects a number${max === Infinity ? ` of at least ${min}` : ` from ${min} to ${max}`}, got "${text}"`, { exit: 2 });
      return x;
    };
    const report = await monitorModel({
      runsDir: this.runsDir(flags['runs-dir']),
      ref: parseModelRef(args.model),
      sinceMs: flags.since,
      thresholds: {
        maxDrift: number('max-drift', flags['max-drift'], 0)!,
        maxUnknown: number('max-unknown', flags['max-unknown'], 0, 1)!,
        minRows: flags['min-rows'],
        minAccuracy: number('min-accuracy', flags['min-accuracy'], 0, 1),
        maxMae: number('max-mae', flags['max-mae'], 0),
      },
    });
    this.out(renderMonitorReport(report, { color: shouldColor(process.stdout) }));
    if (this.jsonEnabled()) for (const line of retrainLines(report)) this.note(line);
    this.setExitCode(report.exitCode);
    return report;
  }
}
