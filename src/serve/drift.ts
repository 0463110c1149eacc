import { categoryOf, isMissing, parseNumber } from '../ml/columns.js';
import type { DatasetMeta } from '../ml/dataset.js';
import { tokenize } from '../ml/tokenize.js';

/** A fixed-size window over the last `size` observations. */
class Window {
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size: number) {
    this.#values = new Float64Array(size);
  }

  push(v: number): void {
    this.#values[this.#next] = v;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  mean(): number | undefined {
    if (this.#count === 0) return undefined;
    let sum = 0;
    for (let i = 0; i < this.#count; i++) sum += this.#values[i]!;
    return sum / this.#count;
  }
}

/** One feature's recent inputs next to its training statistics. */
export interface FeatureDrift {
  feature: string;
  /** Rows in the window. */
  rows: number;
  /** Share of recent rows where the value was missing. */
  missingRatio?: number;
  /** Numeric: mean of recent present values, the training mean and std, and (recent − mean) / std. */
  recentMean?: number;
  trainingMean?: number;
  trainingStd?: number;
  zScore?: number;
  /** Categorical: share of recent values that are not a training category. */
  unknownRatio?: number;
}

/** Text models: recent token counts and the share of tokens outside the vocabulary. */
export interface TextDrift {
  rows: number;
  tokensMean?: number;
  oovRatio?: number;
}

interface Tracked {
  name: string;
  type: 'numeric' | 'categorical';
  values: Window;
  missing: Window;
  unknown: Window;
  categories?: Set<string>;
  stats?: { mean: number; std: number };
}

/**
 * Watches the inputs a server receives against the training statistics in the model's metadata:
 * per numeric feature the mean of the last `window` values vs the training mean (as a z-score),
 * per categorical feature the share of unseen categories, and for text the out-of-vocabulary rate.
 * At most `sampleRows` rows of each request are looked at, so large batches stay cheap.
 */
export class DriftMonitor {
  readonly #features: Tracked[];
  readonly #text?: { tokens: Window; oov: Window; vocab: Set<string>; meta: NonNullable<DatasetMeta['text']> };

  constructor(
    meta: DatasetMeta,
    readonly window = 1000,
    readonly sampleRows = 32,
  ) {
    this.#features = meta.features.filter((f) => f.type === 'numeric' || f.type === 'categorical').map((f) => ({
      name: f.name,
      type: f.type as Tracked['type'],
      values: new Window(window),
      missing: new Window(window),
      unknown: new Window(window),
      categories: f.categories ? new Set(f.categories) : undefined,
      stats: f.stats ? { mean: f.stats.mean, std: f.stats.std } : undefined,
    }));
    if (meta.text) this.#text = { tokens: new Window(window), oov: new Window(window), vocab: new Set(meta.text.vocab.slice(2)), meta: meta.text };
  }

  observe(rows: readonly Record<string, unknown>[]): void {
    const n = Math.min(rows.length, this.sampleRows);
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
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
