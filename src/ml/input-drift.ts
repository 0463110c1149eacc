import { categoryOf, isMissing, parseNumber } from './columns.js';
import type { DatasetMeta } from './dataset.js';
import { tokenize } from './tokenize.js';

/** Where one figure's observations go: a running mean over all of them, or over the last N (the server's window). */
export interface Series {
  push(v: number): void;
  readonly count: number;
  mean(): number | undefined;
}

/** A mean over every observation: what `mlpipe monitor` takes over a period of logged rows. */
export class RunningMean implements Series {
  #sum = 0;
  #count = 0;

  push(v: number): void {
    this.#sum += v;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  mean(): number | undefined {
    return this.#count === 0 ? undefined : this.#sum / this.#count;
  }
}

/** One feature's recent inputs next to its training statistics. */
export interface FeatureDrift {
  feature: string;
  /** Rows looked at. */
  rows: number;
  /** Share of rows where the value was missing. */
  missingRatio?: number;
  /** Numeric: mean of the present values, the training mean and std, and (mean − training mean) / training std. */
  recentMean?: number;
  trainingMean?: number;
  trainingStd?: number;
  zScore?: number;
  /** Categorical: share of values that are not a training category. */
  unknownRatio?: number;
}

/** Text models: token counts and the share of tokens outside the vocabulary. */
export interface TextDrift {
  rows: number;
  tokensMean?: number;
  oovRatio?: number;
}

interface Tracked {
  name: string;
  type: 'numeric' | 'categorical';
  values: Series;
  missing: Series;
  unknown: Series;
  categories?: Set<string>;
  stats?: { mean: number; std: number };
}

/**
 * Raw input rows against the training statistics in a model's dataset meta: per numeric feature the
 * mean of the values seen vs the training mean (as a z-score), per categorical feature the share of
 * unseen categories, and for text the out-of-vocabulary rate. `series` decides over which
 * observations the means run (the server: its last N rows; `mlpipe monitor`: all rows of a period).
 */
export class InputDrift {
  readonly #features: Tracked[];
  readonly #text?: { tokens: Series; oov: Series; vocab: Set<string>; meta: NonNullable<DatasetMeta['text']> };

  constructor(meta: DatasetMeta, series: () => Series = () => new RunningMean()) {
    this.#features = meta.features
      .filter((f) => f.type === 'numeric' || f.type === 'categorical')
      .map((f) => ({
        name: f.name,
        type: f.type as Tracked['type'],
        values: series(),
        missing: series(),
        unknown: series(),
        categories: f.categories ? new Set(f.categories) : undefined,
        stats: f.stats ? { mean: f.stats.mean, std: f.stats.std } : undefined,
      }));
    if (meta.text) this.#text = { tokens: series(), oov: series(), vocab: new Set(meta.text.vocab.slice(2)), meta: meta.text };
  }

  /** Looks at the first `limit` rows (all by default). */
  observe(rows: readonly Record<string, unknown>[], limit = rows.length): void {
    const n = Math.min(rows.length, limit);
    for (let i = 0; i < n; i++) this.#observeRow(rows[i]!);
  }

  #observeRow(row: Record<string, unknown>): void {
    for (const f of this.#features) {
      const v = row[f.name];
      const missing = isMissing(v);
      f.missing.push(missing ? 1 : 0);
      if (missing) continue;
      if (f.type === 'numeric') {
        const x = parseNumber(v);
        if (x !== undefined) f.values.push(x);
      } else f.unknown.push(f.categories!.has(categoryOf(v)) ? 0 : 1);
    }
    if (this.#text) {
      const t = this.#text;
      const tokens = tokenize(String(row[t.meta.column] ?? ''), t.meta.tokenizer, t.meta.lowercase);
      t.tokens.push(tokens.length);
      if (tokens.length > 0) t.oov.push(tokens.filter((tok) => !t.vocab.has(tok)).length / tokens.length);
    }
  }

  features(): FeatureDrift[] {
    return this.#features.map((f) => {
      const d: FeatureDrift = { feature: f.name, rows: f.missing.count, missingRatio: f.missing.mean() };
      if (f.type === 'categorical') return { ...d, unknownRatio: f.unknown.mean() };
      const recent = f.values.mean();
      const out: FeatureDrift = { ...d, recentMean: recent, trainingMean: f.stats?.mean, trainingStd: f.stats?.std };
      if (recent !== undefined && f.stats) out.zScore = (recent - f.stats.mean) / (f.stats.std || 1);
      return out;
    });
  }

  text(): TextDrift | undefined {
    if (!this.#text) return undefined;
    return { rows: this.#text.tokens.count, tokensMean: this.#text.tokens.mean(), oovRatio: this.#text.oov.mean() };
  }
}
