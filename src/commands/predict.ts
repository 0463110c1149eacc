import { Args, Flags } from '@oclif/core';
import { backendFlag } from '../cli/backend-flag.js';
import { BaseCommand } from '../cli/base-command.js';
import { thresholdFlag } from '../cli/threshold-flag.js';
import { writeStdout } from '../cli/stdout.js';
import { parseModelRef } from '../app/models/model-ref.js';
import { locateModel } from '../app/models/resolve-model.js';
import { remoteNameFlag, remoteOpener } from '../cli/remote-flags.js';
import type { SkippedRow } from '../app/models/batch-predict.js';
import type { PredictionFormat } from '../app/models/prediction-output.js';
import type { Prediction } from '../ml/predict.js';
import type { BackendChoice } from '../ml/backend-choice.js';

/** `mlpipe predict --json`. */
export interface PredictResult {
  schemaVersion: 1;
  model: { name: string; version: number };
  backend: string;
  rows: number;
  format: PredictionFormat;
  output: string | null;
  /** Present when no --output file was given (--json: every row's prediction is held for this answer). */
  predictions?: Prediction[];
  /** Rows left out with --on-error skip: 1-based data row, line, column and why. */
  skipped: SkippedRow[];
}

export default class Predict extends BaseCommand {
  static override summary = 'Score a csv/jsonl/parquet file of raw rows with a registered model, using the preprocessing it was trained with.';
  static override examples = [
    '<%= config.bin %> predict iris@production --input new.csv --output predictions.csv',
    '<%= config.bin %> predict iris@3 --input rows.jsonl --json',
    '<%= config.bin %> predict iris@production --input new.csv --explain',
  ];
  static override args = {
    model: Args.string({ description: 'NAME@VERSION, NAME@ALIAS, or NAME for the newest version.', required: true }),
  };
  static override flags = {
    input: Flags.string({ char: 'i', description: 'Raw rows: .csv, .tsv, .jsonl, .json or .parquet.', required: true }),
    output: Flags.string({ char: 'o', description: 'Where to write the rows with their predictions (.csv, .jsonl or .parquet); default: stdout.' }),
    format: Flags.string({ description: 'Output format (default: from --output, else like the input); parquet needs --output.', options: ['csv', 'jsonl', 'parquet'] }),
    threshold: thresholdFlag(),
    'on-error': Flags.string({ description: 'A row that cannot be scored (missing or invalid value): fail stops with an error naming it; skip leaves it out, reports it, and scores the rest.', options: ['fail', 'skip'], default: 'fail' }),
    explain: Flags.boolean({ description: 'Add per row each input feature\'s contribution to the predicted class\'s probability (or the value), by occlusion: the prediction minus the prediction with that feature at its training baseline. One more forward pass per feature.', default: false }),
    backend: backendFlag('Compute backend.'),
    remote: remoteNameFlag,
  };

  async run(): Promise<PredictResult> {
    const { args, flags } = await this.parse(Predict);
    const { model, dir } = await locateModel(this.runsDir(flags['runs-dir']), parseModelRef(args.model), remoteOpener(() => this.projectConfig({ remote: flags.remote })));
    const { predictFile } = await import('../app/models/batch-predict.js');
    const result = await predictFile({
      modelDir: dir,
      input: flags.input,
      output: flags.output,
      format: flags.format as PredictionFormat | undefined,
      backend: flags.backend as BackendChoice,
      onError: flags['on-error'] as 'fail' | 'skip',
      threshold: flags.threshold,
      explain: flags.explain,
      ...(flags.output || this.jsonEnabled() ? {} : { write: writeStdout }),
    });
    if (result.skipped.length > 0) {
      const first = result.skipped.slice(0, 5).map((r) => `  row ${r.row}${r.line ? ` (line ${r.line})` : ''}${r.column ? `, column "${r.column}"` : ''}: ${r.reason}`);
      this.note([`skipped ${result.skipped.length} row(s) that could not be scored:`, ...first, ...(result.skipped.length > 5 ? [`  … and ${result.skipped.length - 5} more (--json lists all)`] : [])].join('\n'));
    }
    if (result.text !== null) this.out(result.text);
    else if (result.output !== null) this.note(`wrote ${result.rows} predictions of ${model.name} v${model.version} to ${result.output}`);
    return {
      schemaVersion: 1,
      model: { name: model.name, version: model.version },
      backend: result.backend,
      rows: result.rows,
      format: result.format,
      output: result.output,
      ...(result.output === null ? { predictions: result.predictions } : {}),
      skipped: result.skipped,
    };
  }
}
