import type { Prediction } from '../ml/predict.js';
import type { ModelSlot, ServedModel } from './model-slot.js';

/** Predictions for one request and the version that made them. */
export interface BatchResult {
  model: ServedModel;
  predictions: Prediction[];
}

const DEFAULT_MAX_ROWS = 2048;

interface Pending {
  rows: Record<string, unknown>[];
  resolve(r: BatchResult): void;
  reject(err: unknown): void;
}

/**
 * Coalesces the requests that arrive within one event-loop turn into a single model call (up to
 * `maxRows` rows), which saves most of the fixed per-call cost of a small model under concurrent
 * load. Each request gets back exactly its own rows' predictions. When the combined call fails
 * (a bad row), each request is scored on its own so the error reaches only the request it belongs to.
 */
export class PredictBatcher {
  #queue: Pending[] = [];
  #queuedRows = 0;
  #scheduled = false;

  constructor(
    private readonly slot: ModelSlot,
    private readonly options: { maxRows?: number; onCall?: (rows: number) => void } = {},
  ) {}

  predict(rows: Record<string, unknown>[]): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => {
      this.#queue.push({ rows, resolve, reject });
      this.#queuedRows += rows.length;
      if (this.#queuedRows >= (this.options.maxRows ?? DEFAULT_MAX_ROWS)) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queuedRows = 0;
    const model = this.slot.acquire();
    void this.#run(model, batch).finally(() => this.slot.release(model));
  }

  async #run(model: ServedModel, batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      let all: Prediction[] | undefined;
      try {
        const rows = batch.flatMap((p) => p.rows);
        this.options.onCall?.(rows.length);
        all = await model.predictor.predict(rows);
      } catch {
        all = undefined;
      }
      if (all) {
        let offset = 0;
        for (const p of batch) {
          p.resolve({ model, predictions: all.slice(offset, offset + p.rows.length) });
          offset += p.rows.length;
        }
        return;
      }
    }
    for (const p of batch) {
      try {
        this.options.onCall?.(p.rows.length);
        p.resolve({ model, predictions: await model.predictor.predict(p.rows) });
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
