import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Prediction } from '../ml/predict.js';
import type { DriftMonitor } from './drift.js';
import type { ServedModel } from './model-slot.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/** The Prometheus metrics of one server. */
export interface ServerMetrics {
  registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  observePredictions(model: ServedModel, predictions: readonly Prediction[]): void;
  /** One model call over `rows` rows (requests coalesced by the batcher). */
  observeModelCall(rows: number): void;
  modelSwapped(): void;
  reloadFailed(): void;
}

/**
 * Creates the registry `GET /metrics` renders: request counts by route/method/status, a latency
 * histogram, rows per request, predictions by class, the model being served, swaps, and input-drift
 * gauges read from the served model's drift monitor at scrape time (plus the default process metrics).
 */
export function createServerMetrics(current: () => ServedModel, predictionLog?: () => { written: number; dropped: number }): ServerMetrics {
  const drift = (): DriftMonitor => current().drift;
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'mlpipe_http_requests_total', help: 'HTTP requests answered, by route, method and status code.', labelNames: ['route', 'method', 'status'] as const, registers });
  const latency = new Histogram({ name: 'mlpipe_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route.', labelNames: ['route'] as const, buckets: LATENCY_BUCKETS, registers });
  const batch = new Histogram({ name: 'mlpipe_predict_batch_rows', help: 'Rows per successful POST /predict request.', buckets: BATCH_BUCKETS, registers });
  const calls = new Histogram({ name: 'mlpipe_model_call_rows', help: 'Rows per model call; concurrent requests are scored together.', buckets: BATCH_BUCKETS, registers });
  const predictions = new Counter({ name: 'mlpipe_predictions_total', help: 'Rows scored, by model version and predicted class (empty for regression; `target:class` per target of a multi-target model).', labelNames: ['model', 'version', 'class'] as const, registers });
  const swaps = new Counter({ name: 'mlpipe_model_swaps_total', help: 'Times a newly promoted version replaced the served one.', registers });
  const failures = new Counter({ name: 'mlpipe_model_reload_failures_total', help: 'Times a newly promoted version could not be loaded (the old one kept serving).', registers });
  new Gauge({
    name: 'mlpipe_model_info',
    help: 'The model version being served (value 1).',
    labelNames: ['model', 'version', 'backend'] as const,
    registers,
    collect() {
      const m = current();
      this.reset();
      this.set({ model: m.name, version: String(m.version), backend: m.predictor.backend }, 1);
    },
  });
  const featureGauge = (name: string, help: string, pick: (d: ReturnType<DriftMonitor['features']>[number]) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['feature'] as const,
      registers,
      collect() {
        this.reset();
        for (const d of drift().features()) {
          const v = pick(d);
          if (v !== undefined && Number.isFinite(v)) this.set({ feature: d.feature }, v);
        }
      },
    });
  featureGauge('mlpipe_input_feature_recent_mean', 'Mean of the recent values of a numeric input feature.', (d) => d.recentMean);
  featureGauge('mlpipe_input_feature_training_mean', 'Mean of a numeric feature in the training split.', (d) => d.trainingMean);
  featureGauge('mlpipe_input_feature_training_std', 'Standard deviation of a numeric feature in the training split.', (d) => d.trainingStd);
  featureGauge('mlpipe_input_feature_drift_zscore', '(recent mean - training mean) / training std of a numeric feature.', (d) => d.zScore);
  featureGauge('mlpipe_input_feature_missing_ratio', 'Share of recent rows missing this feature.', (d) => d.missingRatio);
  featureGauge('mlpipe_input_feature_unknown_category_ratio', 'Share of recent values of a categorical feature not seen in training.', (d) => d.unknownRatio);
  featureGauge('mlpipe_input_drift_window_rows', 'Rows in the drift window of a feature.', (d) => d.rows);
  const textGauge = (name: string, help: string, pick: (t: NonNullable<ReturnType<DriftMonitor['text']>>) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const t = drift().text();
        const v = t && pick(t);
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  if (predictionLog) {
    for (const [name, help, pick] of [
      ['mlpipe_prediction_log_rows_written', 'Rows written to the prediction log since the start.', (c: { written: number }) => c.written],
      ['mlpipe_prediction_log_rows_dropped', 'Rows left out of the prediction log since the start because too many waited to be written.', (c: { dropped: number }) => c.dropped],
    ] as const) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(predictionLog()));
        },
      });
    }
  }
  textGauge('mlpipe_input_text_tokens_mean', 'Mean tokens per recent text input.', (t) => t.tokensMean);
  textGauge('mlpipe_input_text_oov_ratio', 'Share of recent text tokens outside the training vocabulary.', (t) => t.oovRatio);

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route }, seconds);
    },
    observePredictions(model, preds) {
      batch.observe(preds.length);
      const version = String(model.version);
      const counts = new Map<string, number>();
      const count = (label: string) => counts.set(label, (counts.get(label) ?? 0) + 1);
      for (const p of preds) {
        if (p.outputs) for (const [target, o] of Object.entries(p.outputs)) count(`${target}:${o.label ?? ''}`);
        else count(p.label ?? '');
      }
      for (const [label, n] of counts) predictions.inc({ model: model.name, version, class: label }, n);
    },
    observeModelCall(rows) {
      calls.observe(rows);
    },
    modelSwapped() {
      swaps.inc();
    },
    reloadFailed() {
      failures.inc();
    },
  };
}
