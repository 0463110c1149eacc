import { UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';
import { PredictionLog, predictionLogPath } from '../../core/monitor/prediction-log.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { readModelMeta } from '../../ml/model-io.js';
import { formatModelRef, type ModelRef } from '../models/model-ref.js';
import { locateVerifiedModel, resolveModel } from '../models/resolve-model.js';
import { shareDistance } from './distribution.js';
import { LiveSummarizer, type LivePerformance, type LiveSummary, type PredictionDistribution } from './live-summary.js';
import { readTestReference, type TestReference } from './test-reference.js';
import { judge, type MonitorThresholds } from './verdict.js';

/** What `mlpipe monitor` found: the period's figures next to the test split's, and the verdict. */
export interface MonitorReport {
  schemaVersion: 1;
  /** The reference as given (`iris@production`) and the version it named. */
  ref: string;
  model: string;
  version: number;
  log: string;
  /** ISO times of the period. */
  since: string;
  until: string;
  rows: number;
  otherVersions: LiveSummary['otherVersions'];
  drift: LiveSummary['drift'];
  predictions: {
    live: PredictionDistribution;
    test?: PredictionDistribution;
    /** Classification: the true labels' shares on the test split. */
    testActual?: Record<string, number>;
    /** Classification: total variation distance between the live and the test predicted shares (0 same, 1 disjoint). */
    shift?: number;
  };
  performance?: LivePerformance & { test?: number };
  /** The predictions.csv the test figures come from, when found. */
  testReference?: string;
  thresholds: MonitorThresholds;
  healthy: boolean;
  /** Why to retrain (empty when healthy). */
  reasons: string[];
  /** What could not be judged. */
  notes: string[];
  exitCode: 0 | 4;
}

/** Options of {@link monitorModel}. */
export interface MonitorOptions {
  runsDir: string;
  ref: ModelRef;
  /** Length of the period, ending now, in milliseconds. */
  sinceMs: number;
  thresholds: MonitorThresholds;
  now?: number;
}

/** There is no prediction log for the model: it was never served with logging on this runs folder. */
export class NoPredictionLogError extends UserError {
  constructor(model: string, path: string) {
    super(`no predictions of ${model} are logged yet: ${path} does not exist`, {
      hint: `serve the model with its prediction log on (the default): mlpipe serve ${model}@production, using this runs folder (--runs-dir), and send it requests`,
    });
    this.name = 'NoPredictionLogError';
  }
}

const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function report(o: MonitorOptions, version: number, path: string, now: number, live: LiveSummary, test: TestReference | undefined): MonitorReport {
  const verdict = judge(live, o.thresholds);
  const l = live.predictions;
  const t = test?.predictions;
  const shift = l.kind === 'classes' && t?.kind === 'classes' && live.rows > 0 ? shareDistance(l.shares, t.shares) : undefined;
  return {
    schemaVersion: 1,
    ref: formatModelRef(o.ref),
    model: o.ref.name,
    version,
    log: path,
    since: isoSeconds(now - o.sinceMs),
    until: isoSeconds(now),
    rows: live.rows,
    otherVersions: live.otherVersions,
    drift: live.drift,
    predictions: { live: l, ...(t ? { test: t } : {}), ...(test?.actualShares ? { testActual: test.actualShares } : {}), ...(shift === undefined ? {} : { shift }) },
    ...(live.performance ? { performance: { ...live.performance, ...(test ? { test: test.performance.value } : {}) } } : {}),
    ...(test ? { testReference: test.file } : {}),
    thresholds: o.thresholds,
    ...verdict,
    exitCode: verdict.healthy ? ExitCode.Success : ExitCode.Retrain,
  };
}

/**
 * Reads the prediction log of the version `ref` names over the last `sinceMs` and judges it: input
 * drift per feature against the training statistics, the prediction distribution against the test
 * split's, live accuracy (or MAE) over the rows that got feedback.
 */
export async function monitorModel(o: MonitorOptions): Promise<MonitorReport> {
  const now = o.now ?? Date.now();
  const path = predictionLogPath(o.runsDir, o.ref.name);
  const tracker = await openExistingTracker(o.runsDir);
  try {
    const version = await resolveModel(tracker, o.ref);
    const meta = await readModelMeta(await locateVerifiedModel(o.runsDir, version));
    const log = PredictionLog.openExisting(path);
    if (!log) throw new NoPredictionLogError(o.ref.name, path);
    const summarizer = new LiveSummarizer(meta, version.version);
    try {
      for (const row of log.read(o.ref.name, now - o.sinceMs)) summarizer.add(row);
    } finally {
      log.close();
    }
    const test = meta.outputs ? undefined : await readTestReference(tracker, version, meta.labels);
    return report(o, version.version, path, now, summarizer.finish(), test);
  } finally {
    await tracker.close();
  }
}
