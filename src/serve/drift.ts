import type { DatasetMeta } from '../ml/dataset.js';
import { InputDrift, type FeatureDrift, type Series, type TextDrift } from '../ml/input-drift.js';

export type { FeatureDrift, TextDrift };

/** A fixed-size window over the last `size` observations. */
class Window implements Series {
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

/**
 * Watches the inputs a server receives against the training statistics in the model's metadata
 * ({@link InputDrift}) over the last `window` values of each figure. At most `sampleRows` rows of
 * each request are looked at, so large batches stay cheap.
 */
export class DriftMonitor {
  readonly #drift: InputDrift;

  constructor(
    meta: DatasetMeta,
    readonly window = 1000,
    readonly sampleRows = 32,
  ) {
    this.#drift = new InputDrift(meta, () => new Window(window));
  }

  observe(rows: readonly Record<string, unknown>[]): void {
    this.#drift.observe(rows, this.sampleRows);
  }

  features(): FeatureDrift[] {
    return this.#drift.features();
  }

  text(): TextDrift | undefined {
    return this.#drift.text();
  }
}
