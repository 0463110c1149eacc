import type { Prediction } from '../ml/predict.js';
import type { ModelMeta } from '../ml/model-io.js';
import type { DriftMonitor } from './drift.js';

/** What the server needs from a loaded model; `loadPredictor` returns one. */
export interface ServingPredictor {
  meta: ModelMeta;
  backend: string;
  predict(rows: Record<string, unknown>[]): Prediction[] | Promise<Prediction[]>;
  dispose(): void;
}

/** A loaded version being served. */
export interface ServedModel {
  name: string;
  version: number;
  /** The folder it was loaded from. */
  dir: string;
  predictor: ServingPredictor;
  /** Recent inputs vs this version's training statistics. */
  drift: DriftMonitor;
  loadedAt: number;
}

/**
 * Holds the model being served and swaps it atomically: a request leases the current model for its
 * whole prediction, a swap changes what later leases get, and a replaced model is disposed only once
 * its last lease is returned. So no request ever sees a disposed model or a half-swapped one.
 */
export class ModelSlot {
  #current: ServedModel;
  readonly #leases = new Map<ServedModel, number>();
  readonly #retired = new Set<ServedModel>();
  #closed = false;

  constructor(initial: ServedModel) {
    this.#current = initial;
  }

  get current(): ServedModel {
    return this.#current;
  }

  /** The current model, held until {@link release}. */
  acquire(): ServedModel {
    const m = this.#current;
    this.#leases.set(m, (this.#leases.get(m) ?? 0) + 1);
    return m;
  }

  release(m: ServedModel): void {
    const left = (this.#leases.get(m) ?? 1) - 1;
    if (left > 0) {
      this.#leases.set(m, left);
      return;
    }
    this.#leases.delete(m);
    if (this.#retired.delete(m)) m.predictor.dispose();
  }

  /** Makes `next` current; the previous model is disposed once no request holds it. Returns the previous model. */
  swap(next: ServedModel): ServedModel {
    if (this.#closed) {
      next.predictor.dispose();
      return this.#current;
    }
    const previous = this.#current;
    this.#current = next;
    this.#retire(previous);
    return previous;
  }

  /** Disposes the current model (after its leases end); the slot serves nothing new afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#retire(this.#current);
  }

  #retire(m: ServedModel): void {
    if (this.#leases.has(m)) this.#retired.add(m);
    else m.predictor.dispose();
  }
}
