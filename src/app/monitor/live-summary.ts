import type { LoggedPrediction } from '../../core/monitor/prediction-log.js';
import { InputDrift, type FeatureDrift, type TextDrift } from '../../ml/input-drift.js';
import type { ModelMeta } from '../../ml/model-io.js';
import { classShares, quantiles, type Quantiles } from './distribution.js';

/** What the predictions of a period looked like: class shares (classification) or quantiles of the values (regression). */
export type PredictionDistribution =
  | { kind: 'classes'; shares: Record<string, number> }
  | { kind: 'values'; quantiles: Quantiles }
  | { kind: 'none' };

/** How well the predictions did where a true label came back: accuracy (classification) or mean absolute error (regression). */
export interface LivePerformance {
  metric: 'accuracy' | 'mae';
  /** Rows with a true label. */
  labeled: number;
  /** Undefined when no row has one. */
  value?: number;
}

/** The logged rows of one model version over a period, summarized. */
export interface LiveSummary {
  rows: number;
  /** Rows of the same model made by other versions (left out of every figure). */
  otherVersions: Record<string, number>;
  drift: { features: FeatureDrift[]; text?: TextDrift };
  predictions: PredictionDistribution;
  performance?: LivePerformance;
}

/**
 * Takes the logged rows of a period one at a time (the log is streamed, not loaded) and summarizes
 * those of `version`: input drift against the training statistics (the server's {@link InputDrift},
 * over every row instead of a window), the prediction distribution, and accuracy or MAE over the
 * rows that got feedback.
 */
export class LiveSummarizer {
  readonly #drift: InputDrift;
  readonly #regression: boolean;
  readonly #multi: boolean;
  readonly #labels = new Map<string, number>();
  #values: number[] = [];
  #rows = 0;
  #labeled = 0;
  #score = 0;
  readonly #others = new Map<number, number>();

  constructor(
    readonly meta: Pick<ModelMeta, 'task' | 'dataset' | 'outputs'>,
    readonly version: number,
  ) {
    this.#drift = new InputDrift(meta.dataset);
    this.#regression = meta.task === 'regression';
    this.#multi = meta.outputs !== undefined;
  }

  add(row: LoggedPrediction): void {
    if (row.version !== this.version) {
      this.#others.set(row.version, (this.#others.get(row.version) ?? 0) + 1);
      return;
    }
    this.#rows++;
    this.#drift.observe([row.input]);
    if (this.#multi) return;
    const p = row.prediction;
    if (this.#regression) {
      if (typeof p.value === 'number') this.#values.push(p.value);
    } else if (p.label !== undefined) this.#labels.set(p.label, (this.#labels.get(p.label) ?? 0) + 1);
    if (row.label === undefined) return;
    this.#labeled++;
    if (this.#regression) this.#score += Math.abs((p.value ?? NaN) - Number(row.label));
    else if (p.label === String(row.label)) this.#score++;
  }

  finish(): LiveSummary {
    const predictions: PredictionDistribution = this.#multi
      ? { kind: 'none' }
      : this.#regression
        ? { kind: 'values', quantiles: quantiles(this.#values) }
        : { kind: 'classes', shares: classShares(this.#labels, this.#labelOrder()) };
    const text = this.#drift.text();
    return {
      rows: this.#rows,
      otherVersions: Object.fromEntries([...this.#others].sort((a, b) => a[0] - b[0]).map(([v, n]) => [`v${v}`, n])),
      drift: { features: this.#drift.features(), ...(text ? { text } : {}) },
      predictions,
      ...(this.#multi
        ? {}
        : { performance: { metric: this.#regression ? ('mae' as const) : ('accuracy' as const), labeled: this.#labeled, ...(this.#labeled > 0 ? { value: this.#score / this.#labeled } : {}) } }),
    };
  }

  /** The model's classes in their order, then any other label seen. */
  #labelOrder(): string[] {
    const known = this.meta.dataset.labels ?? [];
    return [...known, ...[...this.#labels.keys()].filter((l) => !known.includes(l)).sort()];
  }
}
